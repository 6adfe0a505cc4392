/* fuzz-init.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Linked into the targets built for libFuzzer (-Dfuzzing=true), which
 * calls this once before the first input.
 */

#include "config.h"

#include <glib.h>

int LLVMFuzzerInitialize (int    *argc,
                          char ***argv);

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /* A critical or a warning is a bug the fuzzer found. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);

  return 0;
}
