/* builtin.h - bprun's own activations (plugins/activations/), compiled into bprun and
 * libbprun-model from the very sources of the plugin files, so a trained net runs where the
 * plugin folder is not installed (modelapi.c registers them with bp_registry_add_builtins: a
 * plugin file of the same name on the search path still wins). */
#ifndef BP_BUILTIN_H
#define BP_BUILTIN_H

#include <stddef.h>

#include "bprun/plugin.h"

/* Up to cap descriptors into out; returns how many there are. */
size_t bp_builtin_activations(const bp_plugin **out, size_t cap);

#endif
