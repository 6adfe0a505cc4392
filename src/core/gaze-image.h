/* gaze-image.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

#define GAZE_TYPE_IMAGE (gaze_image_get_type ())
#define GAZE_TYPE_DETAIL (gaze_detail_get_type ())
#define GAZE_IMAGE_ERROR (gaze_image_error_quark ())

G_DECLARE_FINAL_TYPE (GazeImage, gaze_image, GAZE, IMAGE, GObject)

typedef enum
{
  GAZE_DETAIL_AUTO,
  GAZE_DETAIL_LOW,
  GAZE_DETAIL_HIGH,
} GazeDetail;

typedef enum
{
  GAZE_IMAGE_ERROR_EMPTY,
  GAZE_IMAGE_ERROR_NOT_AN_IMAGE,
  GAZE_IMAGE_ERROR_CORRUPT,
  GAZE_IMAGE_ERROR_TOO_LARGE,
  GAZE_IMAGE_ERROR_UNREADABLE,
  GAZE_IMAGE_ERROR_UNSUPPORTED,
  GAZE_IMAGE_ERROR_TOO_MANY,
  GAZE_IMAGE_ERROR_REQUEST_TOO_LARGE,
} GazeImageError;

/* Azure OpenAI takes at most this many images in one chat request, earlier
 * turns' included. */
#define GAZE_MAX_IMAGES_PER_REQUEST 10

GType       gaze_detail_get_type          (void) G_GNUC_CONST;
GQuark      gaze_image_error_quark        (void);

const char *gaze_detail_to_string         (GazeDetail            detail);
gboolean    gaze_detail_is_valid          (GazeDetail            detail);
gboolean    gaze_detail_from_string       (const char           *text,
                                           GazeDetail           *detail);
void        gaze_detail_fit_size          (GazeDetail            detail,
                                           int                   width,
                                           int                   height,
                                           int                  *out_width,
                                           int                  *out_height);
gboolean    gaze_image_check_count        (guint                 n_images,
                                           GError              **error);

/* Blocking versions, for worker threads, the command line and benchmarks. */
GazeImage  *gaze_image_prepare_file       (GFile                *file,
                                           GazeDetail            detail,
                                           GCancellable         *cancellable,
                                           GError              **error);
GazeImage  *gaze_image_prepare_bytes      (GBytes               *bytes,
                                           const char           *name,
                                           GazeDetail            detail,
                                           GCancellable         *cancellable,
                                           GError              **error);

void        gaze_image_prepare_file_async  (GFile               *file,
                                            GazeDetail           detail,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
void        gaze_image_prepare_bytes_async (GBytes              *bytes,
                                            const char          *name,
                                            GazeDetail           detail,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
GazeImage  *gaze_image_prepare_finish      (GAsyncResult        *result,
                                            GError             **error);

const char *gaze_image_get_name           (GazeImage            *self);
GazeDetail  gaze_image_get_detail         (GazeImage            *self);
int         gaze_image_get_width          (GazeImage            *self);
int         gaze_image_get_height         (GazeImage            *self);
int         gaze_image_get_source_width   (GazeImage            *self);
int         gaze_image_get_source_height  (GazeImage            *self);
GBytes     *gaze_image_get_jpeg           (GazeImage            *self);
const char *gaze_image_get_base64         (GazeImage            *self);
GdkPixbuf  *gaze_image_get_pixbuf         (GazeImage            *self);

G_END_DECLS
