/* gaze-image-cache.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gaze-image.h"

G_BEGIN_DECLS

#define GAZE_TYPE_IMAGE_CACHE (gaze_image_cache_get_type ())

G_DECLARE_FINAL_TYPE (GazeImageCache, gaze_image_cache, GAZE, IMAGE_CACHE, GObject)

#define GAZE_IMAGE_CACHE_DEFAULT_MAX_SIZE (64 * 1024 * 1024)

GazeImageCache *gaze_image_cache_new                 (gsize                 max_size);
gsize           gaze_image_cache_get_max_size        (GazeImageCache       *self);
void            gaze_image_cache_set_max_size        (GazeImageCache       *self,
                                                      gsize                 max_size);
gsize           gaze_image_cache_get_size            (GazeImageCache       *self);
guint           gaze_image_cache_get_n_images        (GazeImageCache       *self);
void            gaze_image_cache_clear               (GazeImageCache       *self);
void            gaze_image_cache_prepare_file_async  (GazeImageCache       *self,
                                                      GFile                *file,
                                                      GazeDetail            detail,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
void            gaze_image_cache_prepare_bytes_async (GazeImageCache       *self,
                                                      GBytes               *bytes,
                                                      const char           *name,
                                                      GazeDetail            detail,
                                                      GCancellable         *cancellable,
                                                      GAsyncReadyCallback   callback,
                                                      gpointer              user_data);
GazeImage      *gaze_image_cache_prepare_finish      (GazeImageCache       *self,
                                                      GAsyncResult         *result,
                                                      GError              **error);

G_END_DECLS
