/* gaze-request-private.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gaze-request.h"

G_BEGIN_DECLS

/* The body as json-glib builds it, node by node and then escaped one
 * character at a time, photos included. gaze_request_to_bytes() must give
 * the same bytes: tests compare the two, and the bench times both. The app
 * never calls it.
 */
GBytes *gaze_request_to_bytes_reference (GazeRequest *self);

G_END_DECLS
