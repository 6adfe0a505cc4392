/* gaze-jpeg-private.h
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gdk-pixbuf/gdk-pixbuf.h>

G_BEGIN_DECLS

/*
 * GazeJpeg: decodes a JPEG with libjpeg, fed in chunks, straight to the size
 * its caller asks for once the header is read. Errors are in the
 * GDK_PIXBUF_ERROR domain, as a GdkPixbufLoader's would be, except
 * G_IO_ERROR_NO_SPACE when the temporary file for the coefficients of a
 * large progressive JPEG could not be made or written, and
 * G_IO_ERROR_CANCELLED once @cancellable is cancelled.
 */

typedef struct _GazeJpeg GazeJpeg;

/* Called once the frame header is read. @multi_scan: the picture comes in
 * several scans (progressive, or one component at a time), so all its
 * coefficients are kept until the end. Returns %FALSE to stop decoding;
 * otherwise sets the size the decoded picture should have. */
typedef gboolean (*GazeJpegSizeFunc) (int       width,
                                      int       height,
                                      gboolean  multi_scan,
                                      int      *fit_width,
                                      int      *fit_height,
                                      gpointer  user_data);

GazeJpeg  *gaze_jpeg_new              (GazeJpegSizeFunc   size_func,
                                       gpointer           user_data,
                                       GCancellable      *cancellable);
void       gaze_jpeg_free             (GazeJpeg          *self);
gboolean   gaze_jpeg_write            (GazeJpeg          *self,
                                       const guint8      *data,
                                       gsize              len,
                                       GError           **error);
GdkPixbuf *gaze_jpeg_finish           (GazeJpeg          *self,
                                       GError           **error);

GBytes    *gaze_jpeg_encode           (GdkPixbuf         *pixbuf,
                                       int                quality,
                                       GError           **error);

/* For tests and the benchmark: how many bytes of DCT coefficients a
 * decoder may keep in memory before it keeps them in a file instead. */
void       gaze_jpeg_set_memory_limit (gsize              limit);
gboolean   gaze_jpeg_used_file        (GazeJpeg          *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GazeJpeg, gaze_jpeg_free)

G_END_DECLS
