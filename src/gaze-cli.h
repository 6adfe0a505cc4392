/* gaze-cli.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gaze-client.h"

G_BEGIN_DECLS

/* Exit codes of `gaze --ask`, documented in --help and the README. */
typedef enum
{
  GAZE_EXIT_OK = 0,
  GAZE_EXIT_USAGE = 2,
  GAZE_EXIT_IMAGE = 3,
  GAZE_EXIT_AUTH = 4,
  GAZE_EXIT_NOT_FOUND = 5,
  GAZE_EXIT_RATE_LIMITED = 6,
  GAZE_EXIT_FILTERED = 7,
  GAZE_EXIT_NETWORK = 8,
  GAZE_EXIT_SERVICE = 9,
  GAZE_EXIT_CUT_OFF = 10,
} GazeExit;

int gaze_cli_exit_code_for_error (const GError   *error);
int gaze_cli_run                 (GSettings      *settings,
                                  GazeClient     *client,
                                  GVariantDict   *options,
                                  const char    **files);

G_END_DECLS
