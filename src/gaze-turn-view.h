/* gaze-turn-view.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GAZE_TYPE_TURN_VIEW (gaze_turn_view_get_type ())

G_DECLARE_FINAL_TYPE (GazeTurnView, gaze_turn_view, GAZE, TURN_VIEW, GtkWidget)

GazeTurnView *gaze_turn_view_new              (const char   *question,
                                               GPtrArray    *images);
void          gaze_turn_view_set_answer       (GazeTurnView *self,
                                               const char   *answer,
                                               const char   *note);
void          gaze_turn_view_append           (GazeTurnView *self,
                                               const char   *delta);
void          gaze_turn_view_set_finished     (GazeTurnView *self,
                                               gboolean      can_continue,
                                               gint64        prompt_tokens,
                                               gint64        completion_tokens);
void          gaze_turn_view_set_status       (GazeTurnView *self,
                                               const char   *status);
void          gaze_turn_view_set_can_continue (GazeTurnView *self,
                                               gboolean      can_continue);
gboolean      gaze_turn_view_get_shown        (GazeTurnView *self);
const char   *gaze_turn_view_get_answer       (GazeTurnView *self);

G_END_DECLS
