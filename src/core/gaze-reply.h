/* gaze-reply.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define GAZE_TYPE_REPLY (gaze_reply_get_type ())

/* One answer of the service. content is never NULL (it may be empty when a
 * filter withheld it); finish_reason is NULL when the service gave none,
 * and is "length" when the answer was cut by max_tokens.
 */
typedef struct _GazeReply
{
  char     *content;
  char     *finish_reason;
  char     *request_id;
  char     *filtered;       /* the filtered categories, in words, or NULL */
  gboolean  truncated;      /* a stream that ended without a finish reason or [DONE] */
  gint64    prompt_tokens;
  gint64    completion_tokens;
  gint64    total_tokens;
} GazeReply;

GType      gaze_reply_get_type        (void) G_GNUC_CONST;
GazeReply *gaze_reply_new             (void);
GazeReply *gaze_reply_parse           (GBytes          *body,
                                       GError         **error);
GazeReply *gaze_reply_copy            (const GazeReply *self);
void       gaze_reply_free            (GazeReply       *self);
char      *gaze_reply_dup_filter_note (const GazeReply *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GazeReply, gaze_reply_free)

G_END_DECLS
