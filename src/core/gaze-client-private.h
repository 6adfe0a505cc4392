/* gaze-client-private.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gaze-client.h"

G_BEGIN_DECLS

/* The most the client holds in memory of an answer that is not streamed,
 * and of a downloaded photo. Tests lower them, so that they need not send
 * tens of megabytes to go past them; the app keeps the defaults.
 */
void gaze_client_set_max_reply_size    (GazeClient *self,
                                        gsize       size);
void gaze_client_set_max_download_size (GazeClient *self,
                                        gsize       size);

G_END_DECLS
