#include "wabridge/rtp/rtcp.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

namespace wabridge::rtp {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes concat(std::initializer_list<Bytes> parts) {
    Bytes out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

RtcpError parse_error(const Bytes& b) {
    auto r = parse_rtcp(b);
    EXPECT_FALSE(r.ok());
    return r.ok() ? RtcpError{} : r.error();
}

// An RR from 0x01020304 without report blocks (RFC 3550 §6.4.2).
const Bytes kEmptyRr = {0x80, 0xc9, 0x00, 0x01, 0x01, 0x02, 0x03, 0x04};

// The SR + SDES + BYE compound of CompoundSrSdesByeRoundTripsWithExactBytes.
const Bytes kSrSdesBye = {
    // SR: V=2 RC=1 PT=200 length 12 (52 octets)
    0x81,
    0xc8,
    0x00,
    0x0c,
    0x11,
    0x22,
    0x33,
    0x44, // SSRC of sender
    0x83,
    0xaa,
    0x7e,
    0x80,
    0x80,
    0x00,
    0x00,
    0x00, // NTP 1970-01-01 00:00:00.5
    0x00,
    0x00,
    0x09,
    0x60, // RTP timestamp 2400
    0x00,
    0x00,
    0x00,
    0x0a, // packet count 10
    0x00,
    0x00,
    0x06,
    0x40, // octet count 1600
    0x55,
    0x66,
    0x77,
    0x88, // report block: SSRC
    0x19,
    0x00,
    0x00,
    0x0a, // fraction 25, cumulative lost 10
    0x00,
    0x01,
    0x00,
    0x05, // extended highest sequence
    0x00,
    0x00,
    0x00,
    0x20, // jitter 32
    0x7e,
    0x80,
    0x80,
    0x00, // LSR
    0x00,
    0x01,
    0x00,
    0x00, // DLSR 1 s
    // SDES: SC=1 PT=202 length 4 (20 octets): CNAME "wabridge", null item, pad
    0x81,
    0xca,
    0x00,
    0x04,
    0x11,
    0x22,
    0x33,
    0x44,
    0x01,
    0x08,
    'w',
    'a',
    'b',
    'r',
    'i',
    'd',
    'g',
    'e',
    0x00,
    0x00,
    // BYE: SC=1 PT=203 length 3 (16 octets): SSRC, reason "done", pad
    0x81,
    0xcb,
    0x00,
    0x03,
    0x11,
    0x22,
    0x33,
    0x44,
    0x04,
    'd',
    'o',
    'n',
    'e',
    0x00,
    0x00,
    0x00,
};

ReportBlock sample_block() {
    ReportBlock b;
    b.ssrc = 0x55667788;
    b.fraction_lost = 25;
    b.cumulative_lost = 10;
    b.extended_highest_seq = 0x00010005;
    b.jitter = 32;
    b.lsr = 0x7e808000;
    b.dlsr = 0x00010000;
    return b;
}

TEST(Rtcp, CompoundSrSdesByeRoundTripsWithExactBytes) {
    SenderInfo info{0x83aa7e8080000000ULL, 2400, 10, 1600};
    const ReportBlock blocks[] = {sample_block()};
    const uint32_t bye_ssrcs[] = {0x11223344};

    uint8_t buf[128];
    std::span<uint8_t> out(buf);
    size_t n = 0;
    size_t w = write_sender_report(0x11223344, info, blocks, out.subspan(n));
    ASSERT_EQ(w, 52u);
    n += w;
    w = write_sdes_cname(0x11223344, "wabridge", out.subspan(n));
    ASSERT_EQ(w, 20u);
    n += w;
    w = write_bye(bye_ssrcs, "done", out.subspan(n));
    ASSERT_EQ(w, 16u);
    n += w;
    ASSERT_EQ(Bytes(buf, buf + n), kSrSdesBye);

    auto r = parse_rtcp(std::span<const uint8_t>(buf, n));
    ASSERT_TRUE(r.ok()) << to_string(r.error());
    const RtcpCompound& c = r.value();
    EXPECT_EQ(c.packet_count, 3u);
    EXPECT_EQ(c.skipped_packets, 0u);
    EXPECT_EQ(c.dropped_items, 0u);
    ASSERT_EQ(c.senders().size(), 1u);
    EXPECT_EQ(c.senders()[0].ssrc, 0x11223344u);
    EXPECT_EQ(c.senders()[0].info, info);
    ASSERT_EQ(c.reports().size(), 1u);
    EXPECT_EQ(c.reports()[0].reporter_ssrc, 0x11223344u);
    EXPECT_EQ(c.reports()[0].block, sample_block());
    ASSERT_EQ(c.sdes_cnames().size(), 1u);
    EXPECT_EQ(c.sdes_cnames()[0].ssrc, 0x11223344u);
    EXPECT_EQ(c.sdes_cnames()[0].cname, "wabridge");
    EXPECT_EQ(static_cast<const void*>(c.sdes_cnames()[0].cname.data()), buf + 62); // a view
    EXPECT_TRUE(c.has_bye);
    ASSERT_EQ(c.bye().size(), 1u);
    EXPECT_EQ(c.bye()[0], 0x11223344u);
    EXPECT_EQ(c.bye_reason, "done");
}

TEST(Rtcp, ReceiverReportWithTwoBlocks) {
    ReportBlock a = sample_block();
    ReportBlock b;
    b.ssrc = 0xdeadbeef;
    b.fraction_lost = 255;
    b.cumulative_lost = -1; // duplicates can make it negative (RFC 3550 §A.3)
    b.extended_highest_seq = 0xffffffff;
    b.jitter = 0x12345678;
    b.lsr = 0;
    b.dlsr = 0;
    const ReportBlock blocks[] = {a, b};
    uint8_t buf[64];
    ASSERT_EQ(write_receiver_report(0xa1b2c3d4, blocks, buf), 56u);
    const Bytes expected = {
        0x82, 0xc9, 0x00, 0x0d, 0xa1, 0xb2, 0xc3, 0xd4,                         // RC=2, length 13
        0x55, 0x66, 0x77, 0x88, 0x19, 0x00, 0x00, 0x0a, 0x00, 0x01, 0x00, 0x05, // block 1
        0x00, 0x00, 0x00, 0x20, 0x7e, 0x80, 0x80, 0x00, 0x00, 0x01, 0x00, 0x00, //
        0xde, 0xad, 0xbe, 0xef, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // block 2
        0x12, 0x34, 0x56, 0x78, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
    };
    ASSERT_EQ(Bytes(buf, buf + 56), expected);

    auto r = parse_rtcp(expected);
    ASSERT_TRUE(r.ok()) << to_string(r.error());
    EXPECT_TRUE(r->senders().empty());
    ASSERT_EQ(r->reports().size(), 2u);
    EXPECT_EQ(r->reports()[0].reporter_ssrc, 0xa1b2c3d4u);
    EXPECT_EQ(r->reports()[0].block, a);
    EXPECT_EQ(r->reports()[1].reporter_ssrc, 0xa1b2c3d4u);
    EXPECT_EQ(r->reports()[1].block, b);
    EXPECT_EQ(r->reports()[1].block.cumulative_lost, -1);
    EXPECT_FALSE(r->has_bye);
}

TEST(Rtcp, CumulativeLostIsClampedTo24BitsSigned) {
    ReportBlock blocks[2];
    blocks[0].cumulative_lost = 0x7fffff + 5;
    blocks[1].cumulative_lost = -9'000'000;
    uint8_t buf[56];
    ASSERT_EQ(write_receiver_report(1, blocks, buf), 56u);
    EXPECT_EQ(Bytes(buf + 13, buf + 16), (Bytes{0x7f, 0xff, 0xff}));
    EXPECT_EQ(Bytes(buf + 37, buf + 40), (Bytes{0x80, 0x00, 0x00}));
    auto r = parse_rtcp(std::span<const uint8_t>(buf, 56));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->reports()[0].block.cumulative_lost, 8388607);
    EXPECT_EQ(r->reports()[1].block.cumulative_lost, -8388608);
    EXPECT_EQ(clamp_cumulative_lost(-5), -5);
    EXPECT_EQ(clamp_cumulative_lost(int64_t{1} << 40), 8388607);
}

TEST(Rtcp, UnknownTypesAreSkippedAndCounted) {
    const Bytes pli = {0x81, 0xce, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2}; // PSFB FMT=1 (RFC 4585)
    const Bytes nack = {0x81, 0xcd, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 5, 0, 0}; // RTPFB
    const Bytes xr = {0x80, 0xcf, 0x00, 0x01, 0, 0, 0, 1};                           // XR, empty
    const Bytes app = {0x80, 0xcc, 0x00, 0x02, 0, 0, 0, 1, 'n', 'a', 'm', 'e'};      // APP
    const Bytes compound = concat({kEmptyRr, pli, nack, xr, app});
    auto r = parse_rtcp(compound);
    ASSERT_TRUE(r.ok()) << to_string(r.error());
    EXPECT_EQ(r->packet_count, 5u);
    EXPECT_EQ(r->skipped_packets, 4u);
    EXPECT_TRUE(r->reports().empty());
}

TEST(Rtcp, SdesSkipsOtherItemsAndReadsEveryChunk) {
    const Bytes sdes = {
        0x82, 0xca, 0x00, 0x06,                              // SC=2, length 6 (28 octets)
        0xaa, 0xaa, 0xaa, 0xaa, 0x02, 0x03, 'B',  'o',  'b', // chunk 1: NAME "Bob"
        0x01, 0x04, 'c',  'n',  'a',  'm',  0x00,            //   CNAME "cnam", end
        0xbb, 0xbb, 0xbb, 0xbb, 0x01, 0x01, 'x',  0x00,      // chunk 2: CNAME "x", end
    };
    const Bytes compound = concat({kEmptyRr, sdes});
    auto r = parse_rtcp(compound);
    ASSERT_TRUE(r.ok()) << to_string(r.error());
    ASSERT_EQ(r->sdes_cnames().size(), 2u);
    EXPECT_EQ(r->sdes_cnames()[0].ssrc, 0xaaaaaaaau);
    EXPECT_EQ(r->sdes_cnames()[0].cname, "cnam");
    EXPECT_EQ(r->sdes_cnames()[1].ssrc, 0xbbbbbbbbu);
    EXPECT_EQ(r->sdes_cnames()[1].cname, "x");

    // Chunk 1's items end mid-word: nulls pad it to the boundary where chunk 2 starts.
    const Bytes padded = {
        0x82, 0xca, 0x00, 0x05,                        // SC=2, length 5 (24 octets)
        0xaa, 0xaa, 0xaa, 0xaa, 0x01, 0x02, 'a', 'b',  // chunk 1: CNAME "ab",
        0x00, 0x00, 0x00, 0x00,                        //   end + 3 octets of padding
        0xbb, 0xbb, 0xbb, 0xbb, 0x01, 0x01, 'c', 0x00, // chunk 2: CNAME "c", end
    };
    const Bytes with_padded_chunk = concat({kEmptyRr, padded});
    auto q = parse_rtcp(with_padded_chunk);
    ASSERT_TRUE(q.ok()) << to_string(q.error());
    ASSERT_EQ(q->sdes_cnames().size(), 2u);
    EXPECT_EQ(q->sdes_cnames()[0].cname, "ab");
    EXPECT_EQ(q->sdes_cnames()[1].ssrc, 0xbbbbbbbbu);
    EXPECT_EQ(q->sdes_cnames()[1].cname, "c");

    // A chunk without items is its SSRC and one word of nulls.
    const Bytes empty_chunk = {0x81, 0xca, 0x00, 0x02, 0xcc, 0xcc, 0xcc, 0xcc, 0, 0, 0, 0};
    const Bytes with_empty_chunk = concat({kEmptyRr, empty_chunk});
    auto e = parse_rtcp(with_empty_chunk);
    ASSERT_TRUE(e.ok()) << to_string(e.error());
    EXPECT_TRUE(e->sdes_cnames().empty());
}

TEST(Rtcp, SdesCnameLengths) {
    uint8_t buf[300];
    // 2 + 0 + 1 octets of items round up to one word.
    ASSERT_EQ(write_sdes_cname(7, "", buf), 12u);
    EXPECT_EQ(Bytes(buf, buf + 12), (Bytes{0x81, 0xca, 0x00, 0x02, 0, 0, 0, 7, 1, 0, 0, 0}));
    // 2 + 1 + 1 = 4: the null item fills the word exactly.
    ASSERT_EQ(write_sdes_cname(7, "x", buf), 12u);
    EXPECT_EQ(Bytes(buf, buf + 12), (Bytes{0x81, 0xca, 0x00, 0x02, 0, 0, 0, 7, 1, 1, 'x', 0}));
    // 2 + 2 + 1 = 5 -> 8.
    ASSERT_EQ(write_sdes_cname(7, "xy", buf), 16u);
    const std::string longest(255, 'c');
    ASSERT_EQ(write_sdes_cname(7, longest, buf), 8u + 260u);
    const Bytes compound = concat({kEmptyRr, Bytes(buf, buf + 268)});
    auto r = parse_rtcp(compound);
    ASSERT_TRUE(r.ok()) << to_string(r.error());
    EXPECT_EQ(r->sdes_cnames()[0].cname, longest);
    EXPECT_EQ(write_sdes_cname(7, std::string(256, 'c'), buf), 0u);
}

TEST(Rtcp, ByeWithoutReasonAndWithSeveralSsrcs) {
    const uint32_t ssrcs[] = {1, 2, 3};
    uint8_t buf[32];
    ASSERT_EQ(write_bye(ssrcs, "", buf), 16u);
    EXPECT_EQ(Bytes(buf, buf + 16),
              (Bytes{0x83, 0xcb, 0x00, 0x03, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3}));
    const Bytes compound = concat({kEmptyRr, Bytes(buf, buf + 16)});
    auto r = parse_rtcp(compound);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->has_bye);
    EXPECT_EQ(std::vector<uint32_t>(r->bye().begin(), r->bye().end()),
              (std::vector<uint32_t>{1, 2, 3}));
    EXPECT_EQ(r->bye_reason, "");
    // Reason of 3 octets: length octet + 3 = one word exactly.
    ASSERT_EQ(write_bye(ssrcs, "bye", buf), 20u);
    EXPECT_EQ(Bytes(buf + 16, buf + 20), (Bytes{3, 'b', 'y', 'e'}));
}

TEST(Rtcp, PaddingOnTheLastPacketIsRemoved) {
    // BYE with P=1: one SSRC, then 4 octets of padding whose last octet says 4.
    const Bytes bye = {0xa1, 0xcb, 0x00, 0x02, 0, 0, 0, 9, 0, 0, 0, 4};
    const Bytes datagram6 = concat({kEmptyRr, bye});
    auto r = parse_rtcp(datagram6);
    ASSERT_TRUE(r.ok()) << to_string(r.error());
    ASSERT_EQ(r->bye().size(), 1u);
    EXPECT_EQ(r->bye()[0], 9u);
    EXPECT_EQ(r->bye_reason, "");
    // A lone RR is first and last: padding it is allowed (as encryption may need).
    const Bytes padded_rr = {0xa0, 0xc9, 0x00, 0x02, 1, 2, 3, 4, 0, 0, 0, 4};
    EXPECT_TRUE(parse_rtcp(padded_rr).ok());
}

TEST(Rtcp, ReportExtensionAfterBlocksIsIgnored) {
    // RFC 3550 §6.4.1: profile-specific extensions may follow the report blocks.
    const Bytes rr = {0x80, 0xc9, 0x00, 0x02, 1, 2, 3, 4, 0xee, 0xee, 0xee, 0xee};
    auto r = parse_rtcp(rr);
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->reports().empty());
}

TEST(Rtcp, ItemsBeyondCapacityAreCountedNotStored) {
    ReportBlock blocks[31];
    for (size_t i = 0; i < 31; ++i)
        blocks[i].ssrc = static_cast<uint32_t>(i);
    Bytes buf(2 * 752 + 5 * 28);
    size_t n = write_receiver_report(1, blocks, buf);
    ASSERT_EQ(n, 752u);
    n += write_receiver_report(2, blocks, std::span<uint8_t>(buf).subspan(n));
    ASSERT_EQ(n, 1504u);
    for (int i = 0; i < 5; ++i) {
        n += write_sender_report(100 + i, SenderInfo{}, {}, std::span<uint8_t>(buf).subspan(n));
    }
    ASSERT_EQ(n, buf.size());
    auto r = parse_rtcp(buf);
    ASSERT_TRUE(r.ok()) << to_string(r.error());
    EXPECT_EQ(r->reports().size(), kMaxReportBlocks);
    EXPECT_EQ(r->senders().size(), kMaxSenderInfos);
    EXPECT_EQ(r->dropped_items, 31u + 1u);
    EXPECT_EQ(r->packet_count, 7u);
}

TEST(Rtcp, WritersRefuseWhatDoesNotFit) {
    ReportBlock blocks[32];
    uint32_t ssrcs[32] = {};
    uint8_t buf[1024];
    EXPECT_EQ(write_receiver_report(1, blocks, buf), 0u);             // 32 blocks
    EXPECT_EQ(write_sender_report(1, SenderInfo{}, blocks, buf), 0u); // 32 blocks
    EXPECT_EQ(write_bye(ssrcs, "", buf), 0u);                         // 32 SSRCs
    EXPECT_EQ(write_bye(std::span<const uint32_t>(ssrcs, 1), std::string(256, 'r'), buf), 0u);
    EXPECT_EQ(write_receiver_report(1, std::span<const ReportBlock>(blocks, 1),
                                    std::span<uint8_t>(buf, 31)),
              0u);
    EXPECT_EQ(write_sender_report(1, SenderInfo{}, {}, std::span<uint8_t>(buf, 27)), 0u);
    EXPECT_EQ(write_sender_report(1, SenderInfo{}, {}, std::span<uint8_t>(buf, 28)), 28u);
    EXPECT_EQ(write_sdes_cname(1, "abc", std::span<uint8_t>(buf, 11)), 0u);
    EXPECT_EQ(write_bye(std::span<const uint32_t>(ssrcs, 1), "x", std::span<uint8_t>(buf, 11)), 0u);
}

// --- every RtcpError ---

TEST(RtcpErrors, TooShort) {
    EXPECT_EQ(parse_error({}), RtcpError::too_short);
    EXPECT_EQ(parse_error({0x80, 0xc9, 0x00}), RtcpError::too_short);
}

TEST(RtcpErrors, BadVersion) {
    Bytes b = kSrSdesBye;
    b[0] = 0x41; // V=1
    EXPECT_EQ(parse_error(b), RtcpError::bad_version);
    Bytes second = kSrSdesBye;
    second[52] = 0x01; // the SDES packet: V=0
    EXPECT_EQ(parse_error(second), RtcpError::bad_version);
}

TEST(RtcpErrors, LengthPastTheEnd) {
    Bytes b = kEmptyRr;
    b[3] = 0x02; // 12 octets claimed, 8 present
    EXPECT_EQ(parse_error(b), RtcpError::bad_length);
    b[2] = 0xff;
    b[3] = 0xff; // 262144 octets claimed
    EXPECT_EQ(parse_error(b), RtcpError::bad_length);
    // The BYE of the compound claims one word more than is left.
    Bytes c = kSrSdesBye;
    c[75] = 0x04;
    EXPECT_EQ(parse_error(c), RtcpError::bad_length);
}

TEST(RtcpErrors, LengthsMustAddUpExactly) {
    // Octets left over after the last packet: fewer than a header, or a header alone that claims
    // more than is left.
    EXPECT_EQ(parse_error(concat({kEmptyRr, {0x80, 0xcb}})), RtcpError::bad_length);
    EXPECT_EQ(parse_error(concat({kEmptyRr, {0x80, 0xcb, 0x00, 0x01}})), RtcpError::bad_length);
    // The SR claims one word less than it has: its report block no longer fits.
    Bytes shorter = kSrSdesBye;
    shorter[3] = 0x0b;
    EXPECT_EQ(parse_error(shorter), RtcpError::bad_report_count);
}

TEST(RtcpErrors, FirstPacketMustBeADefinedRtcpType) {
    // Types outside 200..207 cannot start an RTCP datagram.
    EXPECT_EQ(parse_error({0x80, 0xc7, 0x00, 0x01, 0, 0, 0, 1}), RtcpError::bad_first_packet);
    EXPECT_EQ(parse_error({0x80, 0xd0, 0x00, 0x01, 0, 0, 0, 1}), RtcpError::bad_first_packet);
}

TEST(Rtcp, ReducedSizePacketsAreAccepted) {
    // RFC 5506 §3: a lone BYE (as pion sends when it hangs up), a lone SDES, a lone PSFB.
    uint8_t buf[64];
    const uint32_t ssrc[] = {0x01020304};
    size_t n = write_bye(ssrc, "bye now", buf);
    auto bye = parse_rtcp(std::span<const uint8_t>(buf, n));
    ASSERT_TRUE(bye);
    EXPECT_TRUE(bye->has_bye);
    EXPECT_EQ(bye->bye_reason, "bye now");
    n = write_sdes_cname(1, "a", buf);
    EXPECT_TRUE(parse_rtcp(std::span<const uint8_t>(buf, n)));
    auto pli = parse_rtcp(Bytes{0x81, 0xce, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2});
    ASSERT_TRUE(pli);
    EXPECT_FALSE(pli->has_bye);
    EXPECT_EQ(pli->packet_count, 1u);
    // A BYE first and an RR after it is still a valid datagram.
    n = write_bye(ssrc, "", buf);
    EXPECT_TRUE(parse_rtcp(concat({Bytes(buf, buf + n), kEmptyRr})));
}

TEST(RtcpErrors, BadPadding) {
    // P on the first of two packets.
    Bytes not_last = concat({kEmptyRr, kEmptyRr});
    not_last[0] |= 0x20;
    EXPECT_EQ(parse_error(not_last), RtcpError::bad_padding);
    // Padding count 0.
    const Bytes zero = {0xa0, 0xc9, 0x00, 0x02, 1, 2, 3, 4, 0, 0, 0, 0};
    EXPECT_EQ(parse_error(zero), RtcpError::bad_padding);
    // Padding count larger than the packet's body (8 octets).
    const Bytes big = {0xa0, 0xc9, 0x00, 0x02, 1, 2, 3, 4, 0, 0, 0, 9};
    EXPECT_EQ(parse_error(big), RtcpError::bad_padding);
    // A count of exactly the body eats the SSRC: then the RR is truncated.
    const Bytes all = {0xa0, 0xc9, 0x00, 0x02, 1, 2, 3, 4, 0, 0, 0, 8};
    EXPECT_EQ(parse_error(all), RtcpError::truncated_packet);
}

TEST(RtcpErrors, TruncatedSenderOrReceiverReport) {
    // SR of length 1: header and SSRC, no sender info.
    EXPECT_EQ(parse_error({0x80, 0xc8, 0x00, 0x01, 1, 2, 3, 4}), RtcpError::truncated_packet);
    // RR of length 0: not even the SSRC.
    EXPECT_EQ(parse_error({0x80, 0xc9, 0x00, 0x00}), RtcpError::truncated_packet);
}

TEST(RtcpErrors, ReportCountMustFit) {
    Bytes rr = kEmptyRr;
    rr[0] = 0x81; // RC=1, no block
    EXPECT_EQ(parse_error(rr), RtcpError::bad_report_count);
    Bytes sr(kSrSdesBye.begin(), kSrSdesBye.begin() + 52);
    sr[0] = 0x82; // RC=2, one block
    EXPECT_EQ(parse_error(sr), RtcpError::bad_report_count);
    sr[0] = 0x9f; // RC=31
    EXPECT_EQ(parse_error(sr), RtcpError::bad_report_count);
}

TEST(RtcpErrors, BadSdes) {
    // The CNAME item claims 200 octets.
    Bytes overrun = kSrSdesBye;
    overrun[61] = 200;
    EXPECT_EQ(parse_error(overrun), RtcpError::bad_sdes);
    // No null item before the end of the packet.
    const Bytes unterminated = {0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x01, 0x02, 'a', 'b'};
    EXPECT_EQ(parse_error(concat({kEmptyRr, unterminated})), RtcpError::bad_sdes);
    // SC=2 but one chunk.
    Bytes missing = kSrSdesBye;
    missing[52] = 0x82;
    EXPECT_EQ(parse_error(missing), RtcpError::bad_sdes);
    // An item header cut at the end of the packet (type octet, no length octet).
    const Bytes cut = {0x81, 0xca, 0x00, 0x02, 0, 0, 0, 1, 0x02, 0x01, 'a', 0x05};
    EXPECT_EQ(parse_error(concat({kEmptyRr, cut})), RtcpError::bad_sdes);
}

TEST(RtcpErrors, BadBye) {
    // SC=3, two SSRCs.
    const Bytes few = {0x83, 0xcb, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 2};
    EXPECT_EQ(parse_error(concat({kEmptyRr, few})), RtcpError::bad_bye);
    // The reason claims 20 octets, 7 follow.
    Bytes reason = kSrSdesBye;
    reason[80] = 20;
    EXPECT_EQ(parse_error(reason), RtcpError::bad_bye);
}

TEST(RtcpErrors, Names) {
    EXPECT_EQ(to_string(RtcpError::too_short), "too_short");
    EXPECT_EQ(to_string(RtcpError::bad_version), "bad_version");
    EXPECT_EQ(to_string(RtcpError::bad_length), "bad_length");
    EXPECT_EQ(to_string(RtcpError::bad_first_packet), "bad_first_packet");
    EXPECT_EQ(to_string(RtcpError::bad_padding), "bad_padding");
    EXPECT_EQ(to_string(RtcpError::truncated_packet), "truncated_packet");
    EXPECT_EQ(to_string(RtcpError::bad_report_count), "bad_report_count");
    EXPECT_EQ(to_string(RtcpError::bad_sdes), "bad_sdes");
    EXPECT_EQ(to_string(RtcpError::bad_bye), "bad_bye");
}

} // namespace
} // namespace wabridge::rtp
