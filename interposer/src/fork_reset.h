// fork_reset.h: the state a fork child must reset before anything else runs.
//
// After fork() only the forking thread lives on, with a new tid: the parking
// lot's queues name threads that are gone, their bucket locks (and a
// pshared-condvar bridge) may have been held by one of them, and the cached
// tid is the parent's. This must be put right before any other child handler
// of pthread_atfork runs: the usual prepare-lock / child-unlock pattern
// unlocks a mutex in the child, and that unlock must not hand the lock to a
// dead waiter or compare owners against the parent's tid.
//
// Child handlers run in registration order, and a preload's constructor runs
// after those of the program's libraries, which may register handlers in
// theirs. So the preload also takes over __register_atfork (what
// pthread_atfork calls, fork_shim.cpp): whichever registration comes first,
// ours is made before it. _Fork() runs no handlers at all; the preload's
// _Fork resets the child itself.
#pragma once

namespace parklock {

// Registers reset_after_fork_in_child as a pthread_atfork child handler, the
// first time it is called (any caller, any thread; later calls return once
// it is done).
void register_fork_reset();

// The reset itself, in a fork or _Fork child.
void reset_after_fork_in_child();

}  // namespace parklock
