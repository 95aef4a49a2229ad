#!/usr/bin/python3
"""speech_check: did a recording contain a known sentence? An offline word score.

    speech_check.py --wav FILE [--expect "twelve known words ..."] [--json] [--min N]

The WAV (any rate, any channel count sox reads) has its leading silence trimmed and is converted
to 16 kHz mono 16-bit with sox, then pocketsphinx_continuous (the 0.8 "5prealpha" CLI, en-us
acoustic model) recognises it against a JSGF grammar: a free loop over the expected sentence's
words plus about two hundred distractor words (tests/data/speech/vocabulary.txt). The general English
language model cannot follow espeak-ng's synthetic voice, which is why a grammar is used; the
distractors keep the grammar from forcing any sound (another sentence, noise) onto the expected
words. The score is the length of the longest common subsequence between the recognised words
and the expected words, so the right words in the wrong order, or scattered hits in noise, score
low.

Prints the recognised words and `matched N/M` (or one JSON object with --json). Exit status 0
(the caller judges the score), or with --min N: 0 when matched >= N, 1 otherwise; 2 when the
tools fail.

Importable: `check(wav_path, expect=TEST_SENTENCE) -> dict` with keys words, matched, total,
expected, speech_seconds; `synthesise(text, wav)` says a sentence with the voice the scores were
tuned on; `frame_levels(wav)` and `speech_spans(levels)` find where speech is, per 20 ms frame.
"""

import argparse
import array
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DATA_DIR = os.path.normpath(os.path.join(HERE, "..", "data", "speech"))
VOCABULARY = os.path.join(DATA_DIR, "vocabulary.txt")
MODEL_DIR = "/usr/share/pocketsphinx/model/en-us"
HMM = os.path.join(MODEL_DIR, "en-us")
DICT = os.path.join(MODEL_DIR, "cmudict-en-us.dict")

# The test sentence (tests/data/speech/README.md): twelve distinct words, most of two or three
# syllables, each recognised in every trial of espeak-ng's VOICE through Opus.
TEST_SENTENCE = "yellow zebras carry heavy wooden boxes across frozen rivers slowly before saturday"
# A different twelve-word sentence for the negative control (its words are in the vocabulary).
OTHER_SENTENCE = "doctors write careful letters about green apples during quiet winter evenings alone"

# espeak-ng voice for synthesise(): the en-us "edward" variant is recognised best by the en-us
# acoustic model (the default voice loses about half the words).
VOICE = "en-us+edward"

# Leading-silence trim: the first 20 ms run above 0.5 % of full scale (-46 dBFS) starts the audio.
# Then 0.5 s of digital silence is put back in front (and after): pocketsphinx estimates the noise
# floor from the first frames and its VAD needs frames before the speech starts.
SILENCE_TRIM = ["silence", "1", "0.02", "0.5%", "pad", "0.5", "0.5"]

# Word insertion penalty. pocketsphinx's default (0.65) lets the free word loop pad speech with
# short words; 1e-2 gave the best scores on the test sentence and no extra words on noise.
WORD_INSERTION_PENALTY = "1e-2"


class ToolError(RuntimeError):
    """sox or pocketsphinx failed or is missing."""


def words_of(text):
    """Lower-case words of a sentence, punctuation dropped."""
    return re.findall(r"[a-z']+", text.lower())


def lcs_length(a, b):
    """Longest common subsequence of two word lists (classic dynamic programme, O(len a * len b))."""
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def load_vocabulary(path=VOCABULARY):
    words = []
    with open(path) as f:
        for line in f:
            words += words_of(line.split("#", 1)[0])
    return words


def write_grammar_and_dict(words, workdir, dict_path=DICT):
    """A JSGF free word loop over `words` and a dictionary with just their pronunciations."""
    wanted = sorted(set(words))
    entries = []
    found = set()
    with open(dict_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            head = line.split(" ", 1)[0]
            base = re.sub(r"\(\d+\)$", "", head)
            if base in wanted:
                entries.append(line if line.endswith("\n") else line + "\n")
                found.add(base)
    missing = [w for w in wanted if w not in found]
    if missing:
        raise ToolError("not in the pronunciation dictionary: " + " ".join(missing))
    gram = os.path.join(workdir, "words.gram")
    with open(gram, "w") as f:
        f.write("#JSGF V1.0;\n\ngrammar speechcheck;\n\n")
        f.write("public <utterance> = <word>+ ;\n\n")
        f.write("<word> = " + " | ".join(wanted) + " ;\n")
    dic = os.path.join(workdir, "words.dict")
    with open(dic, "w") as f:
        f.writelines(entries)
    return gram, dic


def run(argv, what):
    if shutil.which(argv[0]) is None:
        raise ToolError("%s is missing (apt-get install -y %s)" % (
            argv[0], {"sox": "sox", "soxi": "sox"}.get(argv[0], "pocketsphinx pocketsphinx-en-us")))
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise ToolError("%s failed (%d): %s" % (what, p.returncode, p.stderr.strip()[-500:]))
    return p.stdout


def synthesise(text, wav_out, rate=48000, voice=VOICE):
    """Say `text` with espeak-ng into a mono 16-bit WAV at `rate` (espeak-ng is deterministic)."""
    if shutil.which("espeak-ng") is None:
        raise ToolError("espeak-ng is missing (apt-get install -y espeak-ng)")
    raw = wav_out + ".espeak.wav"
    run(["espeak-ng", "-v", voice, "-w", raw, text], "espeak-ng")
    run(["sox", "-V1", raw, "-r", str(rate), "-c", "1", "-b", "16", wav_out], "sox resample")
    os.remove(raw)


def prepare(wav_in, wav_out):
    """Trim leading silence, pad, convert to 16 kHz mono 16-bit; returns the seconds left after
    the trim (0 for a recording that is all silence)."""
    run(["sox", "-V1", wav_in, "-r", "16000", "-b", "16", "-e", "signed-integer", wav_out,
         "channels", "1"] + SILENCE_TRIM + ["rate", "16000"], "sox conversion")
    samples = int(run(["soxi", "-s", wav_out], "soxi").strip() or 0)
    return max(0.0, samples / 16000.0 - 1.0)  # less the padding


def recognise(wav16, gram, dic):
    out = run(["pocketsphinx_continuous", "-infile", wav16, "-hmm", HMM, "-dict", dic, "-jsgf", gram,
               "-samprate", "16000", "-wip", WORD_INSERTION_PENALTY, "-logfn", os.devnull],
              "pocketsphinx_continuous")
    words = []
    for line in out.splitlines():
        for w in line.split():
            w = re.sub(r"\(\d+\)$", "", w.lower())
            if w.startswith(("<", "[", "+")):  # fillers: <sil>, [NOISE], +breath+
                continue
            words.append(w)
    return words


def frame_levels(wav_path, frame=960, rate=48000, lead=0):
    """RMS level (dBFS, floor -120) of each `frame`-sample frame of the audio, mixed to mono at
    `rate`, after `lead` zero samples are put in front (to line frames up with Opus packets:
    lead = the encoder's pre-skip makes frame k the audio of packet k)."""
    raw = subprocess.run(["sox", "-V1", wav_path, "-t", "raw", "-r", str(rate), "-b", "16",
                          "-e", "signed-integer", "-L", "-", "channels", "1"],
                         capture_output=True, timeout=120)
    if raw.returncode != 0:
        raise ToolError("sox: %s" % raw.stderr.decode(errors="replace").strip()[-300:])
    pcm = array.array("h")
    pcm.frombytes(raw.stdout[: len(raw.stdout) // 2 * 2])
    if sys.byteorder == "big":
        pcm.byteswap()
    if lead:
        pcm = array.array("h", bytes(2 * lead)) + pcm
    levels = []
    for i in range(0, len(pcm) - frame + 1, frame):
        chunk = pcm[i:i + frame]
        energy = sum(x * x for x in chunk) / frame
        levels.append(max(-120.0, 10 * math.log10(energy / (32768.0 * 32768.0))) if energy else -120.0)
    return levels


def speech_spans(levels, threshold_db=-40.0, bridge_frames=25):
    """[start, end) frame ranges at or above threshold_db, pauses shorter than bridge_frames
    (0.5 s of 20 ms frames: the gaps between words) joined."""
    spans = []
    for i, level in enumerate(levels):
        if level < threshold_db:
            continue
        if spans and i - spans[-1][1] < bridge_frames:
            spans[-1][1] = i + 1
        else:
            spans.append([i, i + 1])
    return [tuple(x) for x in spans]


def check(wav_path, expect=TEST_SENTENCE, vocabulary=None):
    """Recognise wav_path and score it against `expect`; see the module docstring."""
    expected = words_of(expect)
    if not expected:
        raise ValueError("empty expected sentence")
    vocab = load_vocabulary() if vocabulary is None else list(vocabulary)
    with tempfile.TemporaryDirectory(prefix="speech_check.") as work:
        gram, dic = write_grammar_and_dict(expected + vocab, work)
        wav16 = os.path.join(work, "in16k.wav")
        seconds = prepare(wav_path, wav16)
        heard = recognise(wav16, gram, dic) if seconds >= 0.1 else []
    return {"words": heard, "matched": lcs_length(heard, expected), "total": len(expected),
            "expected": expected, "speech_seconds": round(seconds, 3)}


def main():
    ap = argparse.ArgumentParser(description="score a recording against a known sentence (offline)")
    ap.add_argument("--wav", required=True, help="the recording (anything sox reads)")
    ap.add_argument("--expect", default=TEST_SENTENCE, help="the sentence said (default: the test sentence)")
    ap.add_argument("--vocabulary", default=VOCABULARY, help="distractor words file")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--min", type=int, default=None, help="exit 1 unless at least this many words match")
    args = ap.parse_args()
    try:
        r = check(args.wav, args.expect, load_vocabulary(args.vocabulary))
    except (ToolError, OSError, ValueError, subprocess.TimeoutExpired) as exc:
        print("speech_check: %s" % exc, file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(r))
    else:
        print("recognised: " + " ".join(r["words"]))
        print("matched %d/%d" % (r["matched"], r["total"]))
    if args.min is not None and r["matched"] < args.min:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
