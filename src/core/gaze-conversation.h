/* gaze-conversation.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib-object.h>

#include "gaze-image.h"
#include "gaze-request.h"

G_BEGIN_DECLS

#define GAZE_TYPE_CONVERSATION (gaze_conversation_get_type ())

G_DECLARE_FINAL_TYPE (GazeConversation, gaze_conversation, GAZE, CONVERSATION, GObject)

GazeConversation *gaze_conversation_new            (void);
guint             gaze_conversation_get_n_turns    (GazeConversation *self);
const char       *gaze_conversation_get_question   (GazeConversation *self,
                                                    guint             turn);
const char       *gaze_conversation_get_answer     (GazeConversation *self,
                                                    guint             turn);
GPtrArray        *gaze_conversation_get_images     (GazeConversation *self,
                                                    guint             turn);
void              gaze_conversation_add_turn       (GazeConversation *self,
                                                    const char       *question,
                                                    GPtrArray        *images,
                                                    const char       *answer);
void              gaze_conversation_clear          (GazeConversation *self);
guint             gaze_conversation_count_images_left_out
                                                   (GazeConversation *self,
                                                    guint             n_new_images);
GazeRequest      *gaze_conversation_build_request  (GazeConversation *self,
                                                    const char       *api_version,
                                                    const char       *question,
                                                    GPtrArray        *images);

char             *gaze_conversation_to_markdown    (GazeConversation *self);

G_END_DECLS
