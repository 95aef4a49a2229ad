#include "support/test_data.hpp"
#include "wabridge/sdp/parser.hpp"
#include "wabridge/sdp/writer.hpp"

#include <gtest/gtest.h>
#include <random>

namespace wabridge::sdp {
namespace {

using test::read_data;

const char* kMinimal = "v=0\r\n"
                       "o=- 1 2 IN IP4 127.0.0.1\r\n"
                       "s=-\r\n"
                       "t=0 0\r\n"
                       "a=group:BUNDLE audio\r\n"
                       "m=audio 3484 UDP/TLS/RTP/SAVPF 111 126\r\n"
                       "c=IN IP4 57.144.215.49\r\n"
                       "a=mid:audio\r\n"
                       "a=rtpmap:111 opus/48000/2\r\n";

Error parse_error(const std::string& text) {
    auto r = parse(text);
    EXPECT_FALSE(r.ok()) << "expected an error for:\n" << text;
    if (r.ok()) return {};
    EXPECT_FALSE(r.error().reason.empty());
    return r.error();
}

TEST(SdpParser, ParsesTheLiveWhatsAppOfferField) {
    auto r = parse(read_data("sdp/whatsapp/wa-offer-01.sdp"));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    const SessionDescription& sd = r.value();
    EXPECT_EQ(sd.origin.session_id, "1760681506762");
    EXPECT_EQ(sd.origin.session_version, "2");
    EXPECT_EQ(sd.origin.address, "127.0.0.1");
    EXPECT_EQ(sd.session_name, "-");
    EXPECT_EQ(sd.timing, "0 0");
    ASSERT_NE(sd.find("ice-lite"), nullptr);
    EXPECT_FALSE(sd.find("ice-lite")->has_value);
    EXPECT_EQ(sd.find("group")->value, "BUNDLE audio");
    ASSERT_EQ(sd.media.size(), 1u);
    const MediaDescription& m = sd.media[0];
    EXPECT_EQ(m.media, "audio");
    EXPECT_EQ(m.port, 3484);
    EXPECT_EQ(m.proto, "UDP/TLS/RTP/SAVPF");
    EXPECT_EQ(m.formats, (std::vector<std::string>{"111", "126"}));
    EXPECT_EQ(m.connection.address, "57.144.215.49");
    EXPECT_EQ(m.find("ice-pwd")->value, "F6/jjqL0/8/Dzluc0IoZEQ==");
    EXPECT_EQ(m.find_all("candidate").size(), 2u);
    EXPECT_EQ(m.find("fmtp")->value,
              "111 maxaveragebitrate=20000;maxplaybackrate=16000;minptime=20;"
              "sprop-maxcapturerate=16000;useinbandfec=1");
    EXPECT_EQ(m.find("mid")->line, 17u);
}

TEST(SdpParser, AcceptsLfAndCrlfAlike) {
    std::string crlf = read_data("sdp/whatsapp/wa-offer-02.sdp");
    std::string lf;
    for (char c : crlf) {
        if (c != '\r') lf += c;
    }
    auto a = parse(crlf);
    auto b = parse(lf);
    ASSERT_TRUE(a.ok());
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(write(a.value()), write(b.value()));
}

TEST(SdpParser, AcceptsMissingFinalNewlineAndTrailingEmptyLines) {
    std::string s = kMinimal;
    ASSERT_TRUE(parse(s.substr(0, s.size() - 2)).ok());
    ASSERT_TRUE(parse(s + "\r\n\r\n").ok());
}

TEST(SdpParser, KeepsUnknownAttributesInOrder) {
    std::string s =
        std::string(kMinimal) + "a=x-fb-feature:pqc-0\r\na=ice-options:fb-force-5245\r\n";
    auto r = parse(s);
    ASSERT_TRUE(r.ok());
    const auto& attrs = r->media[0].attributes;
    ASSERT_EQ(attrs.size(), 4u);
    EXPECT_EQ(attrs[2].name, "x-fb-feature");
    EXPECT_EQ(attrs[2].value, "pqc-0");
    EXPECT_EQ(attrs[3].name, "ice-options");
}

TEST(SdpParser, AttributesAtSessionAndMediaLevelLandWhereWritten) {
    auto r = parse(read_data("sdp/peers/pion-offer.sdp"));
    ASSERT_TRUE(r.ok());
    EXPECT_NE(r->find("fingerprint"), nullptr); // pion: session level
    EXPECT_EQ(r->media[0].find("fingerprint"), nullptr);
    auto w = parse(read_data("sdp/whatsapp/wa-offer-01.sdp"));
    EXPECT_EQ(w->find("fingerprint"), nullptr); // WhatsApp: media level
    EXPECT_NE(w->media[0].find("fingerprint"), nullptr);
}

TEST(SdpParser, TolerantOfUpperCaseTokensAndOtherMids) {
    std::string s = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                    "m=AUDIO 9 udp/tls/rtp/savpf 96\r\nc=IN IP4 0.0.0.0\r\n"
                    "a=mid:0\r\na=rtpmap:96 OPUS/48000/2\r\na=rtcp-mux-only\r\n";
    auto r = parse(s);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->media[0].media, "audio");
    EXPECT_EQ(r->media[0].proto, "udp/tls/rtp/savpf");
    EXPECT_EQ(r->media[0].find("mid")->value, "0");
    EXPECT_TRUE(r->media[0].has("rtcp-mux-only"));
}

TEST(SdpParser, KeepsOtherLineTypesVerbatim) {
    std::string s = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\ni=info\r\nb=AS:64\r\nt=0 0\r\n"
                    "m=audio 9 RTP/AVP 0\r\nb=AS:30\r\n";
    auto r = parse(s);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->other_lines, (std::vector<std::string>{"i=info", "b=AS:64"}));
    EXPECT_EQ(r->media[0].other_lines, (std::vector<std::string>{"b=AS:30"}));
}

TEST(SdpParser, PortCountAndNonRtpFormats) {
    std::string s = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
                    "m=audio 49170/2 RTP/AVP 0\r\n"
                    "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
    auto r = parse(s);
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->media[0].port_count, 2);
    EXPECT_EQ(r->media[1].formats, (std::vector<std::string>{"webrtc-datachannel"}));
}

// ---- errors: each with its code and line ----

TEST(SdpParser, EmptyInput) {
    EXPECT_EQ(parse_error("").code, ErrorCode::empty_input);
    EXPECT_EQ(parse_error("\r\n\r\n").code, ErrorCode::empty_input);
}

TEST(SdpParser, TooLarge) {
    Error e = parse_error(std::string(64 * 1024 + 1, 'a'));
    EXPECT_EQ(e.code, ErrorCode::too_large);
    EXPECT_EQ(e.line, 0u);
}

TEST(SdpParser, OneMebibyteOfRandomBytesGivesACleanError) {
    std::mt19937 rng(42);
    for (int round = 0; round < 4; ++round) {
        std::string junk(1 << 20, '\0');
        for (char& c : junk)
            c = static_cast<char>(rng());
        EXPECT_EQ(parse_error(junk).code, ErrorCode::too_large);
        // Short random inputs reach the line parser instead of the size cap.
        auto r = parse(junk.substr(0, 4000));
        EXPECT_FALSE(r.ok());
    }
}

TEST(SdpParser, RandomPrintableLinesAreRefusedWithALine) {
    std::mt19937 rng(7);
    for (int round = 0; round < 200; ++round) {
        std::string s;
        for (int i = 0; i < 20; ++i)
            s += static_cast<char>(' ' + rng() % 95);
        auto r = parse(s);
        ASSERT_FALSE(r.ok());
        EXPECT_EQ(r.error().line, 1u) << s;
    }
}

TEST(SdpParser, TooManyLines) {
    std::string s = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
    for (int i = 0; i < 3000; ++i)
        s += "a=x\r\n";
    Error e = parse_error(s);
    EXPECT_EQ(e.code, ErrorCode::too_many_lines);
    EXPECT_EQ(e.line, 2001u);
}

TEST(SdpParser, TenThousandMediaLinesAreRefused) {
    std::string s = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";
    for (int i = 0; i < 10000; ++i)
        s += "m=audio 9 RTP/AVP 0\r\n";
    ParseLimits generous;
    generous.max_bytes = 1 << 20;
    generous.max_lines = 20000;
    auto r = parse(s, generous);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::too_many_media);
    EXPECT_EQ(r.error().line, 5u + 32u);
    // With default limits the same text is refused earlier, by size.
    EXPECT_EQ(parse_error(s).code, ErrorCode::too_large);
}

TEST(SdpParser, AbsurdPort) {
    std::string s = kMinimal;
    s.replace(s.find("3484"), 4, "99999");
    Error e = parse_error(s);
    EXPECT_EQ(e.code, ErrorCode::bad_media);
    EXPECT_EQ(e.line, 6u);
    EXPECT_NE(e.reason.find("99999"), std::string::npos);
}

TEST(SdpParser, AbsurdPayloadType) {
    std::string s = kMinimal;
    s.replace(s.find("111 126"), 7, "111 300");
    Error e = parse_error(s);
    EXPECT_EQ(e.code, ErrorCode::bad_media);
    EXPECT_EQ(e.line, 6u);
    EXPECT_NE(e.reason.find("300"), std::string::npos);
}

TEST(SdpParser, TruncatedLines) {
    std::string full = read_data("sdp/whatsapp/wa-offer-01.sdp");
    // Cutting anywhere inside the first four lines must fail cleanly; later cuts may still parse
    // (a shorter valid SDP) but must never crash.
    for (size_t cut = 0; cut < full.size(); ++cut) {
        auto r = parse(full.substr(0, cut));
        if (cut < full.find("t=0 0")) {
            EXPECT_FALSE(r.ok()) << "cut at " << cut;
        }
    }
    EXPECT_EQ(parse_error("v=0\r\no=- 1 1 IN IP4\r\ns=-\r\nt=0 0\r\n").code, ErrorCode::bad_origin);
    EXPECT_EQ(parse_error("v=0\r\no=- 1 1 IN IP4 x\r\ns=-\r\nt=0\r\n").code, ErrorCode::bad_timing);
    EXPECT_EQ(parse_error(std::string(kMinimal) + "m=audio 9\r\n").code, ErrorCode::bad_media);
    EXPECT_EQ(parse_error(std::string(kMinimal) + "a\r\n").code, ErrorCode::malformed_line);
}

TEST(SdpParser, VersionMustComeFirstAndBeZero) {
    EXPECT_EQ(parse_error("o=- 1 1 IN IP4 0.0.0.0\r\nv=0\r\n").code, ErrorCode::bad_version);
    EXPECT_EQ(parse_error("v=1\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n").code,
              ErrorCode::bad_version);
    Error twice = parse_error(std::string(kMinimal) + "v=0\r\n");
    EXPECT_EQ(twice.code, ErrorCode::bad_version);
    EXPECT_EQ(twice.line, 10u);
}

TEST(SdpParser, MissingRequiredFields) {
    EXPECT_EQ(parse_error("v=0\r\ns=-\r\nt=0 0\r\n").code, ErrorCode::missing_field);
    Error e = parse_error("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n");
    EXPECT_EQ(e.code, ErrorCode::missing_field);
    EXPECT_EQ(e.line, 4u);
}

TEST(SdpParser, SessionOnlyLinesAfterMediaAreRefused) {
    Error e = parse_error(std::string(kMinimal) + "t=0 0\r\n");
    EXPECT_EQ(e.code, ErrorCode::malformed_line);
    EXPECT_EQ(e.line, 10u);
}

TEST(SdpParser, UnknownLineTypeIsRefused) {
    Error e = parse_error(std::string(kMinimal) + "x=1\r\n");
    EXPECT_EQ(e.code, ErrorCode::unknown_line_type);
    EXPECT_EQ(e.line, 10u);
}

TEST(SdpParser, EmptyLineInsideIsRefused) {
    Error e = parse_error("v=0\r\n\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n");
    EXPECT_EQ(e.code, ErrorCode::malformed_line);
    EXPECT_EQ(e.line, 2u);
}

TEST(SdpParser, ControlCharactersAreRefused) {
    std::string s = kMinimal;
    s[s.find("mid:audio") + 4] = '\x01';
    Error e = parse_error(s);
    EXPECT_EQ(e.code, ErrorCode::invalid_character);
    EXPECT_EQ(e.line, 8u);
    std::string nul = std::string(kMinimal) + std::string("a=x\0y\r\n", 7);
    EXPECT_EQ(parse_error(nul).code, ErrorCode::invalid_character);
    std::string bare_cr = std::string(kMinimal) + "a=x\ry\r\n";
    EXPECT_EQ(parse_error(bare_cr).code, ErrorCode::invalid_character);
}

TEST(SdpParser, BadConnectionAndAttributeNames) {
    EXPECT_EQ(parse_error(std::string(kMinimal) + "c=IN IP5 1.2.3.4\r\n").code,
              ErrorCode::bad_connection);
    EXPECT_EQ(parse_error(std::string(kMinimal) + "c=XX IP4 1.2.3.4\r\n").code,
              ErrorCode::bad_connection);
    EXPECT_EQ(parse_error(std::string(kMinimal) + "a=:value\r\n").code, ErrorCode::bad_attribute);
    EXPECT_EQ(parse_error(std::string(kMinimal) + "a=na me:v\r\n").code, ErrorCode::bad_attribute);
}

TEST(SdpParser, ErrorDescribeNamesTheLine) {
    Error e = parse_error("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\ngarbage\r\n");
    EXPECT_EQ(e.describe(), "line 4: expected <type>=<value>, got 'garbage'");
    EXPECT_EQ(to_string(e.code), "malformed_line");
}

// ---- round trip through the writer ----

class SdpRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(SdpRoundTrip, WriteThenParseIsStable) {
    auto first = parse(read_data(GetParam()));
    ASSERT_TRUE(first.ok()) << first.error().describe();
    std::string written = write(first.value());
    auto second = parse(written);
    ASSERT_TRUE(second.ok()) << second.error().describe();
    EXPECT_EQ(write(second.value()), written);
    EXPECT_EQ(second->media.size(), first->media.size());
    for (size_t i = 0; i < first->media.size(); ++i) {
        EXPECT_EQ(second->media[i].attributes.size(), first->media[i].attributes.size());
    }
    for (const auto& line : test::sdp_lines(written)) {
        EXPECT_EQ(written.find(line + "\r\n") != std::string::npos, true) << line;
    }
}

INSTANTIATE_TEST_SUITE_P(
    AllSamples, SdpRoundTrip,
    ::testing::Values("sdp/whatsapp/wa-offer-01.sdp", "sdp/whatsapp/wa-offer-02.sdp",
                      "sdp/whatsapp/wa-offer-04-partial.sdp", "sdp/whatsapp/wa-doc-offer-uic.sdp",
                      "sdp/whatsapp/wa-doc-offer-bic.sdp", "sdp/whatsapp/wa-doc-answer-uic.sdp",
                      "sdp/whatsapp/wa-doc-answer-bic-from-meta.sdp",
                      "sdp/whatsapp/wa-answer-accepted-01.sdp",
                      "sdp/whatsapp/wa-answer-accepted-02.sdp", "sdp/peers/aiortc-offer.sdp",
                      "sdp/peers/chromium-offer.sdp", "sdp/peers/pion-offer.sdp"));

} // namespace
} // namespace wabridge::sdp
