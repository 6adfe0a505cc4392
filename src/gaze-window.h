/* gaze-window.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "gaze-application.h"

G_BEGIN_DECLS

#define GAZE_TYPE_WINDOW (gaze_window_get_type ())

G_DECLARE_FINAL_TYPE (GazeWindow, gaze_window, GAZE, WINDOW, AdwApplicationWindow)

GazeWindow *gaze_window_new               (GazeApplication *application);
void        gaze_window_attach_file       (GazeWindow      *self,
                                           GFile           *file);
void        gaze_window_attach_bytes      (GazeWindow      *self,
                                           GBytes          *bytes,
                                           const char      *name);
guint       gaze_window_get_n_attachments (GazeWindow      *self);
gboolean    gaze_window_get_busy          (GazeWindow      *self);

G_END_DECLS
