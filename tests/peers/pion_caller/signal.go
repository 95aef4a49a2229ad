// Signalling: how the SDP offer and answer travel. Everything before (the peer) and after (ICE,
// DTLS, media, results) is shared by the three modes.
//
//   - http (default, -signal http): the caller POSTs its offer to the bridge's
//     /sessions/{callId}/webrtc, applies the sdpAnswer of the reply and DELETEs the session at the
//     end. Times are measured from the POST.
//   - files (-signal files): the caller writes the same offer to -offer-out (atomically: a
//     temporary file renamed into place) and waits for the answer in -answer-in. No HTTP at all:
//     the test hands the offer to the bridge inside a signed WhatsApp connect webhook and takes
//     the answer from its fake Graph API. Times are measured from the moment the offer file is
//     in place.
//   - answerer (-answerer): Meta's side of a business-initiated call (docs/whatsapp-calling.md
//     §2.5, §4.3). It waits for the bridge's offer in -offer-in, applies it, and writes an answer
//     shaped like Meta's to -answer-out: session-level a=ice-lite, a=setup:active (we are the
//     DTLS client, the bridge the server), one sha-256 fingerprint, Opus PT 111 with WhatsApp's
//     fmtp, telephone-event/8000 on PT 126 (if offered), rtcp-mux, the offer's mid and BUNDLE,
//     one UDP host candidate on 127.0.0.1 (gathered before writing: no trickle), CRLF. As the
//     lite agent we are ICE-controlled: the bridge must nominate. Times are measured from the
//     moment the offer file was read. No HTTP at all.
//
// Input files are polled every 10 ms until they exist and are not empty, for -connect-timeout;
// their writer should rename them into place so that they are never read half-written. Our own
// output file is removed at start, so a stale one from an earlier run is never taken for ours.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pion/webrtc/v3"
)

const (
	signalHTTP  = "http"
	signalFiles = "files"
	modeAnswer  = "answerer"
)

// pollInterval is how often -answer-in / -offer-in are looked for.
const pollInterval = 10 * time.Millisecond

// checkModeFlags validates the flags of the chosen mode, records the mode in the result and,
// in http mode, returns the bridge's base URL. Flags a mode does not use are refused when they
// would change what the user expects (an input or output file), and ignored otherwise (-url,
// -call-id, -token, -no-delete outside http mode; -mid with -answerer, the offer's mid is used).
func checkModeFlags(o *options, res *Result) (*url.URL, error) {
	if o.signal != signalHTTP && o.signal != signalFiles {
		return nil, fmt.Errorf("bad -signal %q: \"http\" or \"files\"", o.signal)
	}
	if o.answerer {
		res.Mode, res.Mid = modeAnswer, "" // the mid will be the offer's
		switch {
		case o.signalSet && o.signal == signalHTTP:
			return nil, errors.New("-answerer exchanges SDP through files only (-offer-in, -answer-out); drop -signal http")
		case o.offerIn == "" || o.answerOut == "":
			return nil, errors.New("-answerer needs -offer-in (the bridge's offer) and -answer-out (our answer)")
		case o.offerOut != "" || o.answerIn != "":
			return nil, errors.New("-offer-out and -answer-in are the caller's files; -answerer reads -offer-in and writes -answer-out")
		case o.rawOffer:
			return nil, errors.New("-raw-offer is for the caller")
		case filepath.Clean(o.offerIn) == filepath.Clean(o.answerOut):
			return nil, errors.New("-offer-in and -answer-out must be different files")
		}
		_ = os.Remove(o.answerOut)
		return nil, nil
	}
	res.Mode = o.signal
	if o.offerIn != "" {
		return nil, errors.New("-offer-in is for -answerer")
	}
	if o.signal == signalFiles {
		switch {
		case o.offerOut == "" || o.answerIn == "":
			return nil, errors.New("-signal files needs -offer-out (where the offer goes) and -answer-in (where the answer will appear)")
		case filepath.Clean(o.offerOut) == filepath.Clean(o.answerIn):
			return nil, errors.New("-offer-out and -answer-in must be different files")
		}
		// An answer already there cannot be for the offer we are about to make.
		if _, err := os.Stat(o.answerIn); err == nil {
			return nil, fmt.Errorf("-answer-in %s already exists before our offer was written (left over from an earlier run?); remove it", o.answerIn)
		}
		_ = os.Remove(o.offerOut)
		return nil, nil
	}
	if o.answerIn != "" {
		return nil, errors.New("-answer-in is for -signal files")
	}
	if o.callID == "" {
		return nil, errors.New("-call-id is required")
	}
	return checkLoopbackURL(o.baseURL)
}

// makeOffer creates pion's offer, waits for gathering and shapes the text like WhatsApp's
// (unless -raw-offer); -wrong-fingerprint then spoils the fingerprint.
func makeOffer(o *options, res *Result, pc *webrtc.PeerConnection) (string, error) {
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return "", fmt.Errorf("create offer: %w", err)
	}
	if err := setLocalAndGather(pc, offer); err != nil {
		return "", err
	}
	offerSDP := pc.LocalDescription().SDP
	if !o.rawOffer {
		munged, notes, err := shapeLikeMeta(offerSDP)
		if err != nil {
			return "", err
		}
		offerSDP, res.OfferMunging = munged, notes
	}
	if o.wrongFP {
		if spoiled, ok := flipFingerprint(offerSDP); ok {
			offerSDP = spoiled
			res.OfferMunging = append(res.OfferMunging, "fingerprint digit flipped (-wrong-fingerprint)")
		}
	}
	res.OfferSetup = sdpAttr(offerSDP, "setup")
	_, res.OfferCandidates, _ = loopbackCandidatesOnly(offerSDP)
	return offerSDP, nil
}

// setLocalAndGather applies our description and waits until every candidate is in it.
func setLocalAndGather(pc *webrtc.PeerConnection, desc webrtc.SessionDescription) error {
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(desc); err != nil {
		return fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-gathered:
		return nil
	case <-time.After(5 * time.Second):
		return errors.New("ICE gathering did not complete in 5 s")
	}
}

// flipFingerprint changes one hex digit of the sha-256 digest: still a well-formed fingerprint,
// but not our certificate's.
func flipFingerprint(sdp string) (string, bool) {
	const key = "a=fingerprint:sha-256 "
	i := strings.Index(sdp, key)
	if i < 0 {
		return sdp, false
	}
	j := i + len(key)
	b := []byte(sdp)
	if b[j] == '0' {
		b[j] = '1'
	} else {
		b[j] = '0'
	}
	return string(b), true
}

// postOffer is the http mode: POST the offer, return the answer. The returned cleanup (the
// DELETE, unless -no-delete) is to be run when the call ends; it is returned even when the POST
// fails, as soon as the request was attempted.
func postOffer(o *options, res *Result, base *url.URL, offerSDP string, tk *tracker,
	logf func(string, ...interface{})) (string, func(), error) {
	if o.offerOut != "" {
		_ = writeFileAtomic(o.offerOut, []byte(offerSDP))
	}
	if err := checkOfferShape(offerSDP, o.mid, o.rawOffer); err != nil {
		return "", nil, fmt.Errorf("offer does not look like WhatsApp's: %w", err)
	}
	logf("offer:\n%s", offerSDP)

	// No proxy, whatever the environment says: the request must stay on 127.0.0.1.
	client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{Proxy: nil}}
	sessionURL := base.JoinPath("sessions", o.callID) // JoinPath escapes the call id
	webrtcURL := sessionURL.JoinPath("webrtc")
	body, _ := json.Marshal(map[string]string{"sdpOffer": offerSDP})
	req, _ := http.NewRequest(http.MethodPost, webrtcURL.String(), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if o.token != "" {
		req.Header.Set("Authorization", "Bearer "+o.token)
	}
	var cleanup func()
	if !o.noDelete {
		cleanup = func() { res.DeleteStatus = deleteSession(client, sessionURL.String(), o.token) }
	}

	tk.begin()
	resp, err := client.Do(req)
	if err != nil {
		return "", cleanup, fmt.Errorf("POST %s: %w", webrtcURL, err)
	}
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	res.AnswerMs = sinceStart(tk)
	res.HTTPStatus = resp.StatusCode
	var ans struct {
		Success   bool            `json:"success"`
		SDPAnswer string          `json:"sdpAnswer"`
		SessionID string          `json:"sessionId"`
		Error     json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(respBody, &ans); err != nil {
		return "", cleanup, fmt.Errorf("POST answered %d with non-JSON body: %.200q", resp.StatusCode, respBody)
	}
	if resp.StatusCode != http.StatusOK || !ans.Success || ans.SDPAnswer == "" {
		return "", cleanup, fmt.Errorf("POST answered %d: %s", resp.StatusCode, strings.TrimSpace(string(respBody)))
	}
	return ans.SDPAnswer, cleanup, nil
}

// exchangeFiles is the files mode: the offer goes to -offer-out, the answer comes from -answer-in.
func exchangeFiles(o *options, res *Result, offerSDP string, tk *tracker, logf func(string, ...interface{})) (string, error) {
	// Only a well-formed offer is handed over (in http mode the file is a copy, written first).
	if err := checkOfferShape(offerSDP, o.mid, o.rawOffer); err != nil {
		return "", fmt.Errorf("offer does not look like WhatsApp's: %w", err)
	}
	logf("offer:\n%s", offerSDP)
	if err := writeFileAtomic(o.offerOut, []byte(offerSDP)); err != nil {
		return "", fmt.Errorf("-offer-out: %w", err)
	}
	tk.begin()
	logf("offer written to %s; waiting for %s", o.offerOut, o.answerIn)
	answer, err := waitForFile(o.answerIn, o.timeout)
	if err != nil {
		return "", fmt.Errorf("-answer-in: %w", err)
	}
	res.AnswerMs = sinceStart(tk)
	return answer, nil
}

// applyAnswer sets the bridge's answer as the remote description (caller modes), keeping only
// its candidates on mediaIP.
func applyAnswer(o *options, res *Result, pc *webrtc.PeerConnection, answer string, logf func(string, ...interface{})) error {
	if o.answerOut != "" {
		_ = writeFileAtomic(o.answerOut, []byte(answer))
	}
	logf("answer:\n%s", answer)
	res.AnswerSetup = sdpAttr(answer, "setup")
	res.DTLSRole = map[string]string{"active": "server", "passive": "client"}[res.AnswerSetup]
	// Network rule: never talk to anything but mediaIP (loopback), even if the answer offers more.
	answerSDP, kept, dropped := loopbackCandidatesOnly(answer)
	res.AnswerCandidates, res.AnswerCandidatesDrop = kept, dropped
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answerSDP}); err != nil {
		return fmt.Errorf("set remote description: %w", err)
	}
	return nil
}

// answerFromFiles is the answerer mode: read the bridge's offer, write our answer.
func answerFromFiles(o *options, res *Result, pc *webrtc.PeerConnection, tk *tracker, logf func(string, ...interface{})) error {
	logf("waiting for the offer in %s", o.offerIn)
	offer, err := waitForFile(o.offerIn, o.timeout)
	if err != nil {
		return fmt.Errorf("-offer-in: %w", err)
	}
	tk.begin()
	logf("offer:\n%s", offer)
	answer, err := makeAnswer(o, res, pc, offer)
	if err != nil {
		return err
	}
	logf("answer:\n%s", answer)
	if err := writeFileAtomic(o.answerOut, []byte(answer)); err != nil {
		return fmt.Errorf("-answer-out: %w", err)
	}
	res.AnswerMs = sinceStart(tk)
	return nil
}

// makeAnswer applies the bridge's offer (its candidates off mediaIP removed) and returns our
// answer text, shaped like Meta's and checked.
func makeAnswer(o *options, res *Result, pc *webrtc.PeerConnection, offer string) (string, error) {
	mid, dtmf, err := checkBridgeOffer(offer)
	if err != nil {
		return "", fmt.Errorf("the bridge's offer: %w", err)
	}
	res.OfferSetup = sdpAttr(offer, "setup")
	offerSDP, kept, dropped := loopbackCandidatesOnly(offer)
	res.OfferCandidates, res.OfferCandidatesDrop = kept, dropped
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offerSDP}); err != nil {
		return "", fmt.Errorf("set remote description (offer): %w", err)
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return "", fmt.Errorf("create answer: %w", err)
	}
	if err := setLocalAndGather(pc, answer); err != nil {
		return "", err
	}
	answerSDP, notes, err := shapeLikeMeta(pc.LocalDescription().SDP)
	if err != nil {
		return "", err
	}
	res.AnswerMunging = notes
	if o.wrongFP {
		if spoiled, ok := flipFingerprint(answerSDP); ok {
			answerSDP = spoiled
			res.AnswerMunging = append(res.AnswerMunging, "fingerprint digit flipped (-wrong-fingerprint)")
		}
	}
	if err := checkShape(answerSDP, mid, "active", dtmf, false); err != nil {
		return "", fmt.Errorf("answer does not look like Meta's: %w", err)
	}
	res.AnswerSetup = sdpAttr(answerSDP, "setup")
	res.DTLSRole = "client" // a=setup:active, checked above
	_, res.AnswerCandidates, _ = loopbackCandidatesOnly(answerSDP)
	return answerSDP, nil
}

// checkBridgeOffer refuses offers that Meta's shape of answer cannot meet, with the reason:
// one audio section with a mid, Opus/48000/2 on PT 111 (the media code sends and analyses PT
// 111), a full ICE agent (two lite agents never connect), and a=setup actpass or passive (our
// answer is active). It returns the mid and whether telephone-event/8000 is offered on PT 126.
func checkBridgeOffer(offer string) (mid string, dtmf bool, err error) {
	var problems []string
	audio := 0
	for _, l := range splitLines(offer) {
		switch {
		case strings.HasPrefix(l, "m="):
			if strings.HasPrefix(l, "m=audio ") {
				audio++
			} else {
				problems = append(problems, fmt.Sprintf("unexpected section %q", l))
			}
		case l == "a=ice-lite":
			problems = append(problems, "a=ice-lite: the bridge must be a full ICE agent (we are lite, two lite agents never connect)")
		case l == "a=rtpmap:126 telephone-event/8000":
			dtmf = true
		}
	}
	if audio != 1 {
		problems = append(problems, fmt.Sprintf("%d m=audio sections, want 1", audio))
	}
	mids := attrValues(offer, "mid")
	if len(mids) != 1 {
		problems = append(problems, fmt.Sprintf("a=mid %q, want one", mids))
	} else {
		mid = mids[0]
	}
	if !contains(attrValues(offer, "rtpmap"), "111 opus/48000/2") {
		problems = append(problems, "no a=rtpmap:111 opus/48000/2")
	}
	switch setup := sdpAttr(offer, "setup"); setup {
	case "actpass", "passive":
	default:
		problems = append(problems, fmt.Sprintf("a=setup:%s: Meta answers active, so the offer must be actpass (or passive)", setup))
	}
	if len(problems) > 0 {
		return "", false, errors.New(strings.Join(problems, "; "))
	}
	return mid, dtmf, nil
}

// sinceStart is the time since tk.begin, in ms.
func sinceStart(tk *tracker) *float64 {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	return round3(float64(time.Since(tk.start).Microseconds()) / 1000)
}

// writeFileAtomic writes b to a temporary file next to path and renames it into place, so that a
// reader polling for path never sees it half-written.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}

// waitForFile polls path every pollInterval until it exists and is not empty, and returns its
// content; it gives up after timeout.
func waitForFile(path string, timeout time.Duration) (string, error) {
	deadline := time.Now().Add(timeout)
	for {
		b, err := os.ReadFile(path)
		if err == nil && len(b) > 0 {
			return string(b), nil
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		if !time.Now().Before(deadline) {
			if err != nil {
				return "", fmt.Errorf("%s did not appear within %s", path, timeout)
			}
			return "", fmt.Errorf("%s is still empty after %s", path, timeout)
		}
		time.Sleep(pollInterval)
	}
}
