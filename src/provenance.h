/* provenance.h - where and with what a run was made, recorded in every file bprun writes. */
#ifndef BP_PROVENANCE_H
#define BP_PROVENANCE_H

/* Provenance as "key: value" lines (bprun version, host, CPU model, compiler and flags, HDF5,
 * libyaml and zlib versions, threads, kernels, start time). malloc'd. */
char *bp_provenance_text(int threads);

#endif
