/* gaze-stream.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "gaze-reply.h"

G_BEGIN_DECLS

typedef struct _GazeStream GazeStream;

GazeStream *gaze_stream_new                   (void);
void        gaze_stream_free                  (GazeStream  *self);
gboolean    gaze_stream_feed                  (GazeStream  *self,
                                               const char  *bytes,
                                               gsize        length,
                                               GError     **error);
gboolean    gaze_stream_read_chunk            (GazeStream  *self,
                                               const char  *json,
                                               gsize        length,
                                               GError     **error);
char       *gaze_stream_take_new_text         (GazeStream  *self);
const char *gaze_stream_get_text              (GazeStream  *self);
gboolean    gaze_stream_is_done               (GazeStream  *self);
gboolean    gaze_stream_has_finish_reason     (GazeStream  *self);
GazeReply  *gaze_stream_finish                (GazeStream  *self,
                                               GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GazeStream, gaze_stream_free)

G_END_DECLS
