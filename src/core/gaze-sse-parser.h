/* gaze-sse-parser.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A larger event than any answer the service could stream; past it the
 * parser stops rather than let a broken or hostile peer fill the memory.
 */
#define GAZE_SSE_PARSER_DEFAULT_MAX_EVENT_SIZE (16 * 1024 * 1024)

typedef struct _GazeSseParser GazeSseParser;

/**
 * GazeSseEventFunc:
 * @data: the event's data: its data lines joined with "\n", nul-terminated
 * @length: the length of @data, without the nul
 * @user_data: the data given to gaze_sse_parser_feed()
 *
 * Receives one complete event. @data is only valid during the call.
 */
typedef void (*GazeSseEventFunc) (const char *data,
                                  gsize       length,
                                  gpointer    user_data);

GazeSseParser *gaze_sse_parser_new                (void);
void           gaze_sse_parser_free               (GazeSseParser    *self);
void           gaze_sse_parser_set_max_event_size (GazeSseParser    *self,
                                                   gsize             max_event_size);
gboolean       gaze_sse_parser_feed               (GazeSseParser    *self,
                                                   const char       *bytes,
                                                   gsize             length,
                                                   GazeSseEventFunc  func,
                                                   gpointer          user_data,
                                                   GError          **error);
gboolean       gaze_sse_parser_finish             (GazeSseParser    *self);
gboolean       gaze_sse_parser_is_done            (GazeSseParser    *self);
guint          gaze_sse_parser_get_n_events       (GazeSseParser    *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GazeSseParser, gaze_sse_parser_free)

G_END_DECLS
