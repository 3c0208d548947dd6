// function_ref.h: a non-owning reference to a callable.
//
// The parking lot takes its callbacks (validate, before-sleep, unpark) as
// FunctionRef so that the slow paths stay out of line without allocating:
// the callable lives on the caller's stack for the duration of the call.
#pragma once

#include <type_traits>
#include <utility>

namespace parklock {

template <typename Signature>
class FunctionRef;

template <typename R, typename... Args>
class FunctionRef<R(Args...)> {
 public:
  template <typename F,
            typename = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FunctionRef>>>
  FunctionRef(F&& f) noexcept  // NOLINT(google-explicit-constructor): used like a lambda
      : callable_(const_cast<void*>(static_cast<const void*>(&f))),
        invoke_([](void* c, Args... args) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(c))(std::forward<Args>(args)...);
        }) {}

  R operator()(Args... args) const { return invoke_(callable_, std::forward<Args>(args)...); }

 private:
  void* callable_;
  R (*invoke_)(void*, Args...);
};

}  // namespace parklock
