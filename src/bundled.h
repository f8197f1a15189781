/* bundled.h - the mark of bprun's own plugins (bp_activation.bundled, bp_optimizer.bundled).
 *
 * Each plugin in plugins/ sets its table's `bundled` field to BP_BUNDLED_KEY; every other
 * plugin leaves it 0 (include/bprun/plugin.h). This header is not installed, so a plugin built
 * outside bprun's tree cannot carry the key by accident (a copy of plugins/activations/sigmoid.c
 * built against the installed header does not compile until the line is removed). With the
 * key, bprun may compute the plugin's functions with its own inlined code (backprop.h,
 * bp_fused_ok), which MUST give the plugin's bits; tests/check_small compares every bundled
 * plugin both ways. Change the key when a bundled plugin's arithmetic changes without the
 * fused code following, so that plugins of another build are not taken for this build's. */
#ifndef BP_BUNDLED_H
#define BP_BUNDLED_H

#include <stdint.h>

#define BP_BUNDLED_KEY UINT64_C(0x6270f05ed0000001)

#endif
