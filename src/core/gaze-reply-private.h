/* gaze-reply-private.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "gaze-reply.h"

G_BEGIN_DECLS

/* What a whole reply and a streamed one read the same way. */
char *gaze_reply_dup_finish_reason (JsonObject *choice);
void  gaze_reply_read_usage        (GazeReply  *self,
                                    JsonObject *usage);

G_END_DECLS
