/* guard.h - what plugin code must not do to bprun's process: end it, or write into its output.
 *
 * Standard output: plugins share bprun's C library, so a plugin's printf writes into the same
 * `stdout` stream as bprun. bp_guard_stdout points file descriptor 1 (and so `stdout`) at
 * standard error and returns a new stream on the original standard output: bprun writes its
 * own output (reports, listings, resolved configs) there and nowhere else, so whatever plugin
 * code prints (printf, puts, write(1, ...)) ends up on standard error.
 *
 * Exit: the guard is armed from the start of main until main returns. A call of exit() (or a
 * return from main through one) while it is armed did not come from bprun: the handler names
 * the plugin whose code made the call (from the stack, or the plugin being loaded), prints one
 * line and ends the process with a failing status. In a trial process (bp_guard_trial) it
 * reports to the parent over the trial's pipe instead ("X STATUS PLUGIN" and "V BYTES", see
 * scheduler.c) and ends with the plugin's status.
 */
#ifndef BP_GUARD_H
#define BP_GUARD_H

#include <stddef.h>
#include <stdio.h>

/* Once, at the start of main: returns the stream for bprun's own output (stdout itself when
 * the descriptors cannot be rearranged). The stream is never closed. */
FILE *bp_guard_stdout(void);

/* Arms the exit guard (registers the handler on the first call). status: the exit status of
 * an unexpected exit. */
void bp_guard_arm(int status);
void bp_guard_disarm(void);

/* Once, in main: a crash (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGSYS) inside a plugin's
 * code while the guard is armed prints "bprun: plugin FILE crashed: signal N (NAME) PHASE"
 * before the signal takes its previous course (trial processes have their own handlers). */
void bp_guard_crashes(void);

/* The phase named in the message: "during training", "while running it"; a static string. */
void bp_guard_phase(const char *phase);

/* The plugin file being loaded or unloaded (its constructors or destructors run now), or NULL
 * after; phase names it ("while being loaded"). path is copied. An unexpected exit while a
 * plugin is loaded is a plugin error: status 2. */
void bp_guard_loading(const char *path, const char *phase);

/* A plugin file whose code may run from now on (for naming it from the stack); path is
 * copied. At most 256 are remembered. */
void bp_guard_plugin(const char *path);

/* In a trial process: report an unexpected exit on fd, then _exit with its status. */
void bp_guard_trial(int fd);

/* The plugin (of those given to bp_guard_plugin, or being loaded) whose code is on the
 * calling thread's stack, or NULL. Uses backtrace and dladdr: for crash and exit handlers. */
const char *bp_guard_culprit(void);

/* This process's address space in bytes (/proc/self/statm), or 0 when unknown.
 * Async-signal-safe. */
size_t bp_guard_vsize(void);

#endif
