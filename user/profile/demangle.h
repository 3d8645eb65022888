/* SPDX-License-Identifier: MIT */
#ifndef CONCUR_DEMANGLE_H
#define CONCUR_DEMANGLE_H

/* The readable form of a C++ (Itanium ABI) symbol, malloc'ed; NULL if it is not one. */
char *demangle(const char *sym);

#endif
