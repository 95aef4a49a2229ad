#include "wabridge/app/metrics.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <limits>

namespace wabridge {

namespace {

bool is_alpha_or_underscore(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Go's ParseFloat (which Prometheus uses) reads the shortest round-trip form; special values
// are spelled +Inf, -Inf and NaN by the exposition format.
void append_number(std::string& out, double value) {
    if (std::isnan(value)) {
        out += "NaN";
    } else if (std::isinf(value)) {
        out += value > 0 ? "+Inf" : "-Inf";
    } else {
        char buf[32];
        auto result = std::to_chars(buf, buf + sizeof buf, value);
        out.append(buf, result.ptr);
    }
}

void append_number(std::string& out, std::uint64_t value) {
    out += std::to_string(value);
}

// Label values escape backslash, double quote and line feed.
void append_label_value(std::string& out, std::string_view value) {
    for (char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out.push_back(c);
        }
    }
}

// HELP text escapes only backslash and line feed.
void append_help(std::string& out, std::string_view help) {
    for (char c : help) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out.push_back(c);
        }
    }
}

// `extra` is an additional label appended last (histogram "le").
void append_labels(std::string& out, const MetricLabels& labels, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
    if (labels.empty() && extra_name.empty()) return;
    out.push_back('{');
    bool first = true;
    auto one = [&](std::string_view name, std::string_view value) {
        if (!first) out.push_back(',');
        first = false;
        out += name;
        out += "=\"";
        append_label_value(out, value);
        out.push_back('"');
    };
    for (const auto& [name, value] : labels)
        one(name, value);
    if (!extra_name.empty()) one(extra_name, extra_value);
    out.push_back('}');
}

template <typename T>
void append_sample(std::string& out, std::string_view name, std::string_view suffix,
                   const MetricLabels& labels, T value, std::string_view extra_name = {},
                   std::string_view extra_value = {}) {
    out += name;
    out += suffix;
    append_labels(out, labels, extra_name, extra_value);
    out.push_back(' ');
    append_number(out, value);
    out.push_back('\n');
}

MetricLabels canonical_labels(MetricLabels labels) {
    std::sort(labels.begin(), labels.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    for (std::size_t i = 0; i < labels.size(); ++i) {
        assert(valid_label_name(labels[i].first) && "invalid Prometheus label name");
        assert((i == 0 || labels[i - 1].first != labels[i].first) && "duplicate label name");
    }
    return labels;
}

std::vector<double> checked_bounds(std::vector<double> bounds) {
    if (!bounds.empty() && bounds.back() == std::numeric_limits<double>::infinity()) {
        bounds.pop_back();
    }
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        assert(std::isfinite(bounds[i]) && "histogram bounds must be finite");
        assert((i == 0 || bounds[i - 1] < bounds[i]) && "histogram bounds must increase");
    }
    return bounds;
}

} // namespace

bool valid_metric_name(std::string_view name) {
    if (name.empty() || !(is_alpha_or_underscore(name[0]) || name[0] == ':')) return false;
    return std::all_of(name.begin() + 1, name.end(),
                       [](char c) { return is_alpha_or_underscore(c) || is_digit(c) || c == ':'; });
}

bool valid_label_name(std::string_view name) {
    if (name.empty() || !is_alpha_or_underscore(name[0]) || name.starts_with("__")) return false;
    return std::all_of(name.begin() + 1, name.end(),
                       [](char c) { return is_alpha_or_underscore(c) || is_digit(c); });
}

void Counter::inc(double amount) {
    assert(!(amount < 0) && "a counter cannot decrease");
    value_ += amount;
}

Histogram::Histogram(std::vector<double> bounds)
    : bounds_(checked_bounds(std::move(bounds)))
    , counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
    if (std::isnan(value)) return;
    // Bucket i counts value <= bounds_[i] ("le"), so the first bound not below value.
    auto it = std::lower_bound(bounds_.begin(), bounds_.end(), value);
    ++counts_[static_cast<std::size_t>(it - bounds_.begin())];
    ++count_;
    sum_ += value;
}

std::uint64_t Histogram::cumulative_count(std::size_t i) const {
    std::uint64_t total = 0;
    for (std::size_t b = 0; b <= i && b < counts_.size(); ++b)
        total += counts_[b];
    return total;
}

MetricsRegistry::Family& MetricsRegistry::family(std::string_view name, std::string_view help,
                                                 Type type) {
    assert(valid_metric_name(name) && "invalid Prometheus metric name");
    auto it = families_.find(name);
    if (it == families_.end()) {
        it = families_.emplace(std::string(name), Family{std::string(help), type, {}, {}, {}, {}})
                 .first;
    }
    assert(it->second.type == type && "metric name registered with another type");
    return it->second;
}

Counter& MetricsRegistry::counter(std::string_view name, std::string_view help,
                                  MetricLabels labels) {
    return family(name, help, Type::counter).counters[canonical_labels(std::move(labels))];
}

Gauge& MetricsRegistry::gauge(std::string_view name, std::string_view help, MetricLabels labels) {
    return family(name, help, Type::gauge).gauges[canonical_labels(std::move(labels))];
}

Histogram& MetricsRegistry::histogram(std::string_view name, std::string_view help,
                                      std::vector<double> bounds, MetricLabels labels) {
    Family& fam = family(name, help, Type::histogram);
    bounds = checked_bounds(std::move(bounds));
    if (fam.histograms.empty()) fam.bounds = bounds;
    assert(fam.bounds == bounds && "histogram registered with other buckets");
    labels = canonical_labels(std::move(labels));
    for ([[maybe_unused]] const auto& label : labels) {
        assert(label.first != "le" && "\"le\" is reserved for histogram buckets");
    }
    auto it = fam.histograms.find(labels);
    if (it == fam.histograms.end()) {
        it = fam.histograms.emplace(std::move(labels), Histogram(std::move(bounds))).first;
    }
    return it->second;
}

std::string MetricsRegistry::render() const {
    std::string out;
    for (const auto& [name, fam] : families_) {
        out += "# HELP ";
        out += name;
        out.push_back(' ');
        append_help(out, fam.help);
        out += "\n# TYPE ";
        out += name;
        switch (fam.type) {
        case Type::counter:
            out += " counter\n";
            for (const auto& [labels, c] : fam.counters)
                append_sample(out, name, "", labels, c.value());
            break;
        case Type::gauge:
            out += " gauge\n";
            for (const auto& [labels, g] : fam.gauges)
                append_sample(out, name, "", labels, g.value());
            break;
        case Type::histogram:
            out += " histogram\n";
            for (const auto& [labels, h] : fam.histograms) {
                std::string le;
                for (std::size_t i = 0; i < h.bounds().size(); ++i) {
                    le.clear();
                    append_number(le, h.bounds()[i]);
                    append_sample(out, name, "_bucket", labels, h.cumulative_count(i), "le", le);
                }
                append_sample(out, name, "_bucket", labels, h.count(), "le", "+Inf");
                append_sample(out, name, "_sum", labels, h.sum());
                append_sample(out, name, "_count", labels, h.count());
            }
            break;
        }
    }
    return out;
}

MetricsRegistry& metrics() {
    static MetricsRegistry instance;
    return instance;
}

} // namespace wabridge
