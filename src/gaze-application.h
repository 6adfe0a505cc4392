/* gaze-application.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "gaze-client.h"
#include "gaze-image-cache.h"

G_BEGIN_DECLS

#define GAZE_TYPE_APPLICATION (gaze_application_get_type ())

G_DECLARE_FINAL_TYPE (GazeApplication, gaze_application, GAZE, APPLICATION, AdwApplication)

GazeApplication *gaze_application_new             (void);
GSettings       *gaze_application_get_settings    (GazeApplication *self);
GazeClient      *gaze_application_get_client      (GazeApplication *self);
GazeImageCache  *gaze_application_get_image_cache (GazeApplication *self);

G_END_DECLS
