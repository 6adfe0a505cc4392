/* gaze-tokens.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "gaze-image.h"

G_BEGIN_DECLS

guint gaze_tokens_for_image  (int         width,
                              int         height,
                              GazeDetail  detail);
guint gaze_tokens_for_images (GPtrArray  *images);

G_END_DECLS
