// Result<T, E>: a value or a typed error, for everything driven by untrusted input.
// C++20 has no std::expected; this is the small subset the project uses.
#pragma once

#include <cassert>
#include <utility>
#include <variant>

namespace wabridge {

// Wraps an error so Result<T, E> stays unambiguous even when T and E convert to each other.
template <typename E> struct Err { E error; };
template <typename E> Err<std::decay_t<E>> err(E&& e) {
    return {std::forward<E>(e)};
}

template <typename T, typename E> class [[nodiscard]] Result {
public:
    Result(T value)
        : state_(std::in_place_index<0>, std::move(value)) {}
    Result(Err<E> e)
        : state_(std::in_place_index<1>, std::move(e.error)) {}

    bool ok() const { return state_.index() == 0; }
    explicit operator bool() const { return ok(); }

    T& value() {
        assert(ok() && "value() on an error Result");
        return std::get<0>(state_);
    }
    const T& value() const {
        assert(ok() && "value() on an error Result");
        return std::get<0>(state_);
    }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    const T& operator*() const { return value(); }

    const E& error() const {
        assert(!ok() && "error() on a successful Result");
        return std::get<1>(state_);
    }

private:
    std::variant<T, E> state_;
};

} // namespace wabridge
