#ifndef VOICEGATE_CFLAC_SHIM_H
#define VOICEGATE_CFLAC_SHIM_H
// libFLAC (Debian libflac-dev): a FLAC stream from PCM through a write callback.
#include <FLAC/stream_encoder.h>
#endif
