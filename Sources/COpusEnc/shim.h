#ifndef VOICEGATE_COPUSENC_SHIM_H
#define VOICEGATE_COPUSENC_SHIM_H
// libopusenc (Debian libopusenc-dev): Ogg/Opus pages from s16 PCM at any rate (it resamples to 48 kHz).
#include <opusenc.h>

// Swift cannot call C variadics: ope_encoder_ctl through fixed-signature wrappers.
static inline int vg_ope_set_bitrate(OggOpusEnc *enc, int bitrate) { return ope_encoder_ctl(enc, OPUS_SET_BITRATE(bitrate)); }
static inline int vg_ope_set_voice(OggOpusEnc *enc) { return ope_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE)); }
static inline int vg_ope_set_complexity(OggOpusEnc *enc, int complexity) { return ope_encoder_ctl(enc, OPUS_SET_COMPLEXITY(complexity)); }
static inline int vg_ope_set_muxing_delay(OggOpusEnc *enc, int samples) { return ope_encoder_ctl(enc, OPE_SET_MUXING_DELAY(samples)); }
static inline int vg_ope_set_decision_delay(OggOpusEnc *enc, int samples) { return ope_encoder_ctl(enc, OPE_SET_DECISION_DELAY(samples)); }
static inline int vg_ope_set_serialno(OggOpusEnc *enc, int serial) { return ope_encoder_ctl(enc, OPE_SET_SERIALNO(serial)); }
#endif
