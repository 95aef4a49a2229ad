// Metrics registry rendered in the Prometheus text exposition format 0.0.4
// (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Not thread-safe by design: every metric is created, updated and rendered on the single
// event-loop thread, so updates are plain arithmetic with no atomics or locks.
//
// Registration returns a reference that stays valid for the registry's lifetime; hot paths
// look a series up once and keep the reference. Invalid metric or label names, a name reused
// with another type, or a histogram reused with other buckets are programming errors (assert).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wabridge {

// HTTP Content-Type of render()'s output.
inline constexpr std::string_view kPrometheusContentType =
    "text/plain; version=0.0.4; charset=utf-8";

// Label name/value pairs; order does not matter (they are sorted by name on registration).
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Counter {
public:
    // Counters only go up; a negative amount is a programming error.
    void inc(double amount = 1.0);
    double value() const { return value_; }

private:
    double value_ = 0.0;
};

class Gauge {
public:
    void set(double value) { value_ = value; }
    void add(double amount) { value_ += amount; }
    void inc() { value_ += 1.0; }
    void dec() { value_ -= 1.0; }
    double value() const { return value_; }

private:
    double value_ = 0.0;
};

class Histogram {
public:
    // `bounds`: finite, strictly increasing upper bounds; the +Inf bucket is implicit (a
    // trailing +Inf is accepted and dropped).
    explicit Histogram(std::vector<double> bounds);

    // NaN observations are ignored: they would poison _sum forever.
    void observe(double value);

    const std::vector<double>& bounds() const { return bounds_; }
    // Cumulative count of observations <= bounds()[i]; i == bounds().size() is +Inf.
    std::uint64_t cumulative_count(std::size_t i) const;
    std::uint64_t count() const { return count_; }
    double sum() const { return sum_; }

private:
    std::vector<double> bounds_;
    std::vector<std::uint64_t> counts_; // per bucket, not cumulative; last one is +Inf
    std::uint64_t count_ = 0;
    double sum_ = 0.0;
};

class MetricsRegistry {
public:
    MetricsRegistry() = default;
    MetricsRegistry(const MetricsRegistry&) = delete;
    MetricsRegistry& operator=(const MetricsRegistry&) = delete;

    // Same name + labels returns the same object. `help` is taken from the first registration.
    Counter& counter(std::string_view name, std::string_view help, MetricLabels labels = {});
    Gauge& gauge(std::string_view name, std::string_view help, MetricLabels labels = {});
    Histogram& histogram(std::string_view name, std::string_view help, std::vector<double> bounds,
                         MetricLabels labels = {});

    // Families sorted by name, series by label values; deterministic for equal contents.
    std::string render() const;

private:
    enum class Type { counter, gauge, histogram };
    struct Family {
        std::string help;
        Type type;
        std::vector<double> bounds; // histograms only
        std::map<MetricLabels, Counter> counters;
        std::map<MetricLabels, Gauge> gauges;
        std::map<MetricLabels, Histogram> histograms;
    };

    Family& family(std::string_view name, std::string_view help, Type type);

    std::map<std::string, Family, std::less<>> families_;
};

// Process-wide registry for the event-loop thread.
MetricsRegistry& metrics();

// True if `name` matches the metric name grammar [a-zA-Z_:][a-zA-Z0-9_:]*.
bool valid_metric_name(std::string_view name);
// True if `name` matches the label name grammar [a-zA-Z_][a-zA-Z0-9_]* and does not start
// with "__" (reserved for Prometheus internals).
bool valid_label_name(std::string_view name);

} // namespace wabridge
