/* gaze-image-tile.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

#include "gaze-image.h"
#include "gaze-image-cache.h"

G_BEGIN_DECLS

#define GAZE_TYPE_IMAGE_TILE (gaze_image_tile_get_type ())

G_DECLARE_FINAL_TYPE (GazeImageTile, gaze_image_tile, GAZE, IMAGE_TILE, GtkWidget)

GazeImageTile *gaze_image_tile_new_for_file       (GazeImageCache *cache,
                                                   GFile          *file,
                                                   GazeDetail      detail);
GazeImageTile *gaze_image_tile_new_for_bytes      (GazeImageCache *cache,
                                                   GBytes         *bytes,
                                                   const char     *name,
                                                   GazeDetail      detail);
GazeImage     *gaze_image_tile_get_image          (GazeImageTile  *self);
void           gaze_image_tile_set_default_detail (GazeImageTile  *self,
                                                   GazeDetail      detail);
gboolean       gaze_image_tile_get_busy           (GazeImageTile  *self);
GdkTexture    *gaze_image_tile_create_thumbnail   (GdkPixbuf      *pixbuf,
                                                   int             size);

G_END_DECLS
