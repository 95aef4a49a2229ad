#include "wabridge/app/metrics.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <limits>

namespace wabridge {
namespace {

TEST(Metrics, CounterWithoutLabels) {
    MetricsRegistry r;
    Counter& c = r.counter("wabridge_calls_total", "Calls accepted.");
    c.inc();
    c.inc(2);
    EXPECT_EQ(c.value(), 3.0);
    EXPECT_EQ(r.render(), "# HELP wabridge_calls_total Calls accepted.\n"
                          "# TYPE wabridge_calls_total counter\n"
                          "wabridge_calls_total 3\n");
}

TEST(Metrics, CounterWithLabelsSortedByNameAndValue) {
    MetricsRegistry r;
    r.counter("rtp_packets_total", "RTP packets.", {{"dir", "out"}, {"codec", "opus"}}).inc(5);
    r.counter("rtp_packets_total", "RTP packets.", {{"dir", "in"}, {"codec", "opus"}}).inc(7);
    EXPECT_EQ(r.render(), "# HELP rtp_packets_total RTP packets.\n"
                          "# TYPE rtp_packets_total counter\n"
                          "rtp_packets_total{codec=\"opus\",dir=\"in\"} 7\n"
                          "rtp_packets_total{codec=\"opus\",dir=\"out\"} 5\n");
}

TEST(Metrics, Gauge) {
    MetricsRegistry r;
    Gauge& g = r.gauge("active_sessions", "Sessions in progress.");
    g.set(10);
    g.add(-2.5);
    g.inc();
    g.dec();
    g.dec();
    EXPECT_EQ(g.value(), 6.5);
    EXPECT_EQ(r.render(), "# HELP active_sessions Sessions in progress.\n"
                          "# TYPE active_sessions gauge\n"
                          "active_sessions 6.5\n");
}

TEST(Metrics, HistogramBucketsAreCumulative) {
    MetricsRegistry r;
    Histogram& h = r.histogram("rtt_seconds", "Round-trip time.", {0.05, 0.1, 1});
    for (double v : {0.01, 0.05, 0.07, 0.5, 3.0, std::nan("")})
        h.observe(v);
    EXPECT_EQ(h.count(), 5u);
    EXPECT_EQ(r.render(), "# HELP rtt_seconds Round-trip time.\n"
                          "# TYPE rtt_seconds histogram\n"
                          "rtt_seconds_bucket{le=\"0.05\"} 2\n"
                          "rtt_seconds_bucket{le=\"0.1\"} 3\n"
                          "rtt_seconds_bucket{le=\"1\"} 4\n"
                          "rtt_seconds_bucket{le=\"+Inf\"} 5\n"
                          "rtt_seconds_sum 3.63\n"
                          "rtt_seconds_count 5\n");
}

TEST(Metrics, HistogramWithLabelsPutsLeLast) {
    MetricsRegistry r;
    Histogram& h = r.histogram("jitter_ms", "Jitter.",
                               {10, 20, std::numeric_limits<double>::infinity()}, {{"dir", "in"}});
    EXPECT_EQ(h.bounds().size(), 2u);
    h.observe(15);
    EXPECT_EQ(r.render(), "# HELP jitter_ms Jitter.\n"
                          "# TYPE jitter_ms histogram\n"
                          "jitter_ms_bucket{dir=\"in\",le=\"10\"} 0\n"
                          "jitter_ms_bucket{dir=\"in\",le=\"20\"} 1\n"
                          "jitter_ms_bucket{dir=\"in\",le=\"+Inf\"} 1\n"
                          "jitter_ms_sum{dir=\"in\"} 15\n"
                          "jitter_ms_count{dir=\"in\"} 1\n");
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
    MetricsRegistry r;
    r.counter("errors_total", "Errors by \\reason\nsecond line.",
              {{"reason", "a \"quoted\" back\\slash\nnewline"}})
        .inc();
    EXPECT_EQ(r.render(), "# HELP errors_total Errors by \\\\reason\\nsecond line.\n"
                          "# TYPE errors_total counter\n"
                          "errors_total{reason=\"a \\\"quoted\\\" back\\\\slash\\nnewline\"} 1\n");
}

TEST(Metrics, SpecialValues) {
    MetricsRegistry r;
    r.gauge("g", "h", {{"k", "inf"}}).set(std::numeric_limits<double>::infinity());
    r.gauge("g", "h", {{"k", "nan"}}).set(std::nan(""));
    r.gauge("g", "h", {{"k", "neg"}}).set(-std::numeric_limits<double>::infinity());
    r.gauge("g", "h", {{"k", "small"}}).set(1e-9);
    EXPECT_EQ(r.render(), "# HELP g h\n"
                          "# TYPE g gauge\n"
                          "g{k=\"inf\"} +Inf\n"
                          "g{k=\"nan\"} NaN\n"
                          "g{k=\"neg\"} -Inf\n"
                          "g{k=\"small\"} 1e-09\n");
}

TEST(Metrics, SameNameAndLabelsGiveTheSameObject) {
    MetricsRegistry r;
    Counter& a = r.counter("x_total", "x", {{"a", "1"}, {"b", "2"}});
    // Registering more series must not move existing ones (std::map nodes are stable).
    for (int i = 0; i < 100; ++i)
        r.counter("x_total", "x", {{"a", std::to_string(i)}});
    Counter& b = r.counter("x_total", "ignored", {{"b", "2"}, {"a", "1"}});
    EXPECT_EQ(&a, &b);
    Counter& other = r.counter("x_total", "x", {{"a", "1"}});
    EXPECT_NE(&a, &other);
    EXPECT_EQ(&r.gauge("g", "g"), &r.gauge("g", "g"));
    EXPECT_EQ(&r.histogram("h", "h", {1}), &r.histogram("h", "h", {1}));
    a.inc();
    EXPECT_EQ(b.value(), 1.0);
}

TEST(Metrics, FamiliesSortedByNameAndHelpOncePerFamily) {
    MetricsRegistry r;
    r.gauge("zeta", "Z.").set(1);
    r.counter("alpha_total", "A.", {{"k", "b"}}).inc();
    r.counter("alpha_total", "A.", {{"k", "a"}}).inc(2);
    r.gauge("mid", "M.").set(0);
    EXPECT_EQ(r.render(), "# HELP alpha_total A.\n"
                          "# TYPE alpha_total counter\n"
                          "alpha_total{k=\"a\"} 2\n"
                          "alpha_total{k=\"b\"} 1\n"
                          "# HELP mid M.\n"
                          "# TYPE mid gauge\n"
                          "mid 0\n"
                          "# HELP zeta Z.\n"
                          "# TYPE zeta gauge\n"
                          "zeta 1\n");
}

TEST(Metrics, EmptyRegistryRendersNothing) {
    MetricsRegistry r;
    EXPECT_EQ(r.render(), "");
}

TEST(Metrics, NameGrammar) {
    EXPECT_TRUE(valid_metric_name("a"));
    EXPECT_TRUE(valid_metric_name("_x:y_1"));
    EXPECT_TRUE(valid_metric_name(":z"));
    EXPECT_FALSE(valid_metric_name(""));
    EXPECT_FALSE(valid_metric_name("1abc"));
    EXPECT_FALSE(valid_metric_name("a-b"));
    EXPECT_FALSE(valid_metric_name("a b"));
    EXPECT_TRUE(valid_label_name("codec"));
    EXPECT_TRUE(valid_label_name("_x1"));
    EXPECT_FALSE(valid_label_name("a:b"));
    EXPECT_FALSE(valid_label_name("__name"));
    EXPECT_FALSE(valid_label_name("9"));
    EXPECT_FALSE(valid_label_name(""));
}

TEST(Metrics, ProcessWideRegistryIsStable) {
    EXPECT_EQ(&metrics(), &metrics());
}

#ifndef NDEBUG
TEST(MetricsDeathTest, InvalidNamesAssert) {
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    MetricsRegistry r;
    EXPECT_DEATH(r.counter("bad-name", "h"), "invalid Prometheus metric name");
    EXPECT_DEATH(r.counter("ok", "h", {{"bad-label", "v"}}), "invalid Prometheus label name");
    EXPECT_DEATH(r.histogram("h", "h", {1}, {{"le", "1"}}), "reserved");
    EXPECT_DEATH(r.histogram("h2", "h", {2, 1}), "increase");
    r.counter("taken", "h");
    EXPECT_DEATH(r.gauge("taken", "h"), "another type");
}
#endif

} // namespace
} // namespace wabridge
