/* gaze-markdown-view.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GAZE_TYPE_MARKDOWN_VIEW (gaze_markdown_view_get_type ())

G_DECLARE_FINAL_TYPE (GazeMarkdownView, gaze_markdown_view, GAZE, MARKDOWN_VIEW, GtkWidget)

GtkWidget  *gaze_markdown_view_new      (void);
const char *gaze_markdown_view_get_text (GazeMarkdownView *self);
void        gaze_markdown_view_set_text (GazeMarkdownView *self,
                                         const char       *text);

G_END_DECLS
