#ifndef VOICEGATE_CLAME_SHIM_H
#define VOICEGATE_CLAME_SHIM_H
// LAME (Debian libmp3lame-dev): mp3 frames from s16 PCM.
#include <stdio.h>
#include <lame/lame.h>
#endif
