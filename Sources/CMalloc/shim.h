// glibc's allocator settings (mallopt), which Swift's Glibc module does not import. Part of libc: nothing to link.
#include <malloc.h>
