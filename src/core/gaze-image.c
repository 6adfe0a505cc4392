/* gaze-image.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-image"

#include "config.h"

#include <math.h>
#include <string.h>

#include <glib/gi18n.h>

#include "gaze-image.h"

/* Anything larger is refused before a single pixel is allocated. */
#define MAX_PIXELS       G_GINT64_CONSTANT (200000000)
#define CHUNK_SIZE       (64 * 1024)
#define JPEG_QUALITY     "85"

#define LOW_MAX_SIDE     512
#define HIGH_MAX_SHORT   768
#define HIGH_MAX_LONG    2000

struct _GazeImage
{
  GObject     parent_instance;

  char       *name;
  GBytes     *jpeg;
  char       *base64;
  GdkPixbuf  *pixbuf;
  GazeDetail  detail;
  int         width;
  int         height;
  int         source_width;
  int         source_height;
};

G_DEFINE_FINAL_TYPE (GazeImage, gaze_image, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (GazeDetail, gaze_detail,
                    G_DEFINE_ENUM_VALUE (GAZE_DETAIL_AUTO, "auto"),
                    G_DEFINE_ENUM_VALUE (GAZE_DETAIL_LOW, "low"),
                    G_DEFINE_ENUM_VALUE (GAZE_DETAIL_HIGH, "high"))

G_DEFINE_QUARK (gaze-image-error-quark, gaze_image_error)

enum {
  PROP_0,
  PROP_NAME,
  PROP_DETAIL,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_SOURCE_WIDTH,
  PROP_SOURCE_HEIGHT,
  PROP_JPEG,
  PROP_BASE64,
  PROP_PIXBUF,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/*
 * Scan: follows the structure of a JPEG or PNG stream as it is fed, chunk by
 * chunk, without keeping any of it.
 *
 * gdk-pixbuf 2.42 happily returns a half-grey picture for a JPEG or PNG that
 * stops in the middle, and libjpeg refuses frames wider than 65500 pixels
 * before the loader ever reports a size. Following the markers (JPEG) or the
 * chunks (PNG) tells us whether the image really ended, and what size its
 * header declared, so that both cases get an honest error.
 */

typedef enum
{
  SCAN_UNKNOWN,        /* Not a format we follow, or one we lost track of. */
  SCAN_ENDED,          /* Saw the JPEG EOI marker or the PNG IEND chunk. */
  SCAN_SKIP,           /* Skipping scan->skip bytes, then scan->after_skip. */
  SCAN_JPEG_MARKER,    /* Expecting the 0xFF that starts a marker. */
  SCAN_JPEG_CODE,      /* Expecting the marker's code. */
  SCAN_JPEG_LENGTH_HI,
  SCAN_JPEG_LENGTH_LO,
  SCAN_JPEG_FRAME,     /* Reading the start of a SOFn segment. */
  SCAN_JPEG_ENTROPY,   /* Inside entropy-coded data, after SOS. */
  SCAN_JPEG_ENTROPY_FF,
  SCAN_PNG_CHUNK,      /* Reading a chunk's length and type. */
  SCAN_PNG_IHDR,       /* Reading the start of IHDR's data. */
} ScanState;

typedef struct
{
  ScanState state;
  ScanState after_skip;
  guint64   skip;
  guint8    header[8];
  guint     header_len;
  guint8    code;
  gboolean  started;
  gboolean  have_size;
  int       width;
  int       height;
} Scan;

static const guint8 png_signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };

static inline guint32
read_uint32_be (const guint8 *data)
{
  return ((guint32) data[0] << 24) | ((guint32) data[1] << 16) | ((guint32) data[2] << 8) | data[3];
}

static inline guint16
read_uint16_be (const guint8 *data)
{
  return (guint16) ((data[0] << 8) | data[1]);
}

static inline gboolean
is_jpeg_frame_code (guint8 code)
{
  /* SOF0 to SOF15, except DHT, JPG and DAC which share the range. */
  return code >= 0xc0 && code <= 0xcf && code != 0xc4 && code != 0xc8 && code != 0xcc;
}

static void
scan_skip (Scan      *scan,
           guint64    count,
           ScanState  after_skip)
{
  scan->state = SCAN_SKIP;
  scan->skip = count;
  scan->after_skip = after_skip;
}

static void
scan_start (Scan         *scan,
            const guint8 *data,
            gsize         len)
{
  scan->started = TRUE;

  if (len >= 2 && data[0] == 0xff && data[1] == 0xd8)
    scan_skip (scan, 2, SCAN_JPEG_MARKER);
  else if (len >= sizeof png_signature && memcmp (data, png_signature, sizeof png_signature) == 0)
    scan_skip (scan, sizeof png_signature, SCAN_PNG_CHUNK);
  else
    scan->state = SCAN_UNKNOWN;
}

static void
scan_jpeg_code (Scan   *scan,
                guint8  code)
{
  if (code == 0xff)
    scan->state = SCAN_JPEG_CODE; /* A fill byte; the code follows. */
  else if (code == 0xd9)
    scan->state = SCAN_ENDED;
  else if (code == 0xd8 || code == 0x01 || (code >= 0xd0 && code <= 0xd7))
    scan->state = SCAN_JPEG_MARKER; /* Markers without a length. */
  else if (code >= 0xc0)
    {
      scan->code = code;
      scan->state = SCAN_JPEG_LENGTH_HI;
    }
  else
    {
      /* A reserved code: rather than guess, leave the verdict to libjpeg. */
      scan->state = SCAN_UNKNOWN;
    }
}

static void
scan_feed (Scan         *scan,
           const guint8 *data,
           gsize         len)
{
  const guint8 *p = data;
  const guint8 *end = data + len;

  if (!scan->started)
    scan_start (scan, data, len);

  while (p < end)
    {
      switch (scan->state)
        {
        case SCAN_UNKNOWN:
        case SCAN_ENDED:
          return;

        case SCAN_SKIP:
          {
            gsize n = (gsize) MIN ((guint64) (end - p), scan->skip);

            p += n;
            scan->skip -= n;
            if (scan->skip == 0)
              scan->state = scan->after_skip;
          }
          break;

        case SCAN_JPEG_MARKER:
          scan->state = *p++ == 0xff ? SCAN_JPEG_CODE : SCAN_UNKNOWN;
          break;

        case SCAN_JPEG_CODE:
          scan_jpeg_code (scan, *p++);
          break;

        case SCAN_JPEG_LENGTH_HI:
          scan->skip = (guint64) *p++ << 8;
          scan->state = SCAN_JPEG_LENGTH_LO;
          break;

        case SCAN_JPEG_LENGTH_LO:
          scan->skip |= *p++;
          if (scan->skip < 2)
            {
              scan->state = SCAN_UNKNOWN;
              break;
            }
          scan->skip -= 2;
          if (is_jpeg_frame_code (scan->code) && !scan->have_size && scan->skip >= 5)
            {
              scan->header_len = 0;
              scan->state = SCAN_JPEG_FRAME;
            }
          else
            scan_skip (scan, scan->skip,
                       scan->code == 0xda ? SCAN_JPEG_ENTROPY : SCAN_JPEG_MARKER);
          break;

        case SCAN_JPEG_FRAME:
          /* Sample precision, then the height and the width. */
          scan->header[scan->header_len++] = *p++;
          if (scan->header_len == 5)
            {
              scan->height = read_uint16_be (scan->header + 1);
              scan->width = read_uint16_be (scan->header + 3);
              scan->have_size = TRUE;
              scan_skip (scan, scan->skip - 5, SCAN_JPEG_MARKER);
            }
          break;

        case SCAN_JPEG_ENTROPY:
          {
            const guint8 *ff = memchr (p, 0xff, end - p);

            if (ff == NULL)
              p = end;
            else
              {
                p = ff + 1;
                scan->state = SCAN_JPEG_ENTROPY_FF;
              }
          }
          break;

        case SCAN_JPEG_ENTROPY_FF:
          /* A stuffed zero or a restart marker belongs to the scan; anything
           * else ends it, like the next scan of a progressive JPEG or EOI. */
          if (*p == 0x00 || (*p >= 0xd0 && *p <= 0xd7))
            scan->state = SCAN_JPEG_ENTROPY;
          else if (*p != 0xff)
            scan_jpeg_code (scan, *p);
          p++;
          break;

        case SCAN_PNG_CHUNK:
          scan->header[scan->header_len++] = *p++;
          if (scan->header_len == 8)
            {
              guint32 length = read_uint32_be (scan->header);
              const guint8 *type = scan->header + 4;

              scan->header_len = 0;

              if (length > G_MAXINT32)
                scan->state = SCAN_UNKNOWN;
              else if (memcmp (type, "IEND", 4) == 0)
                scan->state = SCAN_ENDED;
              else if (memcmp (type, "IHDR", 4) == 0 && !scan->have_size && length >= 8)
                {
                  scan->skip = length - 8;
                  scan->state = SCAN_PNG_IHDR;
                }
              else
                scan_skip (scan, (guint64) length + 4, SCAN_PNG_CHUNK);
            }
          break;

        case SCAN_PNG_IHDR:
          scan->header[scan->header_len++] = *p++;
          if (scan->header_len == 8)
            {
              guint32 width = read_uint32_be (scan->header);
              guint32 height = read_uint32_be (scan->header + 4);

              scan->header_len = 0;
              if (width <= G_MAXINT && height <= G_MAXINT)
                {
                  scan->width = (int) width;
                  scan->height = (int) height;
                  scan->have_size = TRUE;
                }
              /* The rest of the data, then the CRC. */
              scan_skip (scan, scan->skip + 4, SCAN_PNG_CHUNK);
            }
          break;

        default:
          g_assert_not_reached ();
        }
    }
}

static gboolean
scan_is_truncated (const Scan *scan)
{
  /* Formats we do not follow are left to the loader to judge. */
  return scan->started && scan->state != SCAN_UNKNOWN && scan->state != SCAN_ENDED;
}

/*
 * Errors. Each names the file and says what to do about it.
 */

static gboolean
is_too_many_pixels (int width,
                    int height)
{
  return (gint64) width * (gint64) height > MAX_PIXELS;
}

static void
set_size_error (GError     **error,
                const char  *name,
                int          width,
                int          height)
{
  if (width <= 0 || height <= 0)
    g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_CORRUPT,
                 _("“%s” claims to have no pixels, so it is damaged. "
                   "Save the photo again and attach the new copy."),
                 name);
  else
    g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_TOO_LARGE,
                 /* Translators: the first %s is a file name, then width × height. */
                 _("“%s” is %d × %d pixels, more than Gaze can prepare. "
                   "Scale it down to under 200 megapixels and attach it again."),
                 name, width, height);
}

static void
set_corrupt_error (GError     **error,
                   const char  *name)
{
  g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_CORRUPT,
               _("“%s” is damaged or incomplete, so Gaze cannot read it. "
                 "Save or export the photo again and attach the new copy."),
               name);
}

static void
set_memory_error (GError     **error,
                  const char  *name)
{
  g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_TOO_LARGE,
               _("There is not enough memory to prepare “%s”. "
                 "Close other apps or attach a smaller image."),
               name);
}

static void
set_unreadable_error (GError     **error,
                      const char  *name,
                      GError      *reason)
{
  if (g_error_matches (reason, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (error, g_error_copy (reason));
  else
    g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_UNREADABLE,
                 /* Translators: the first %s is a file name, the second the
                  * system's reason, such as “No such file or directory”. */
                 _("Gaze could not read “%s”: %s. "
                   "Check that the file still exists and that you may read it."),
                 name, reason->message);
}

/*
 * Decoder: one GdkPixbufLoader, fed in chunks, that decodes straight to the
 * size the detail asks for.
 */

typedef struct
{
  GdkPixbufLoader *loader;
  const char      *name;
  GazeDetail       detail;
  Scan             scan;
  gsize            n_bytes;
  int              width;
  int              height;
  gboolean         size_seen;
  gboolean         size_refused;
} Decoder;

static void
on_size_prepared (GdkPixbufLoader *loader,
                  int              width,
                  int              height,
                  gpointer         user_data)
{
  Decoder *decoder = user_data;
  int fit_width;
  int fit_height;

  g_assert (GDK_IS_PIXBUF_LOADER (loader));

  /* Once the first size is known, later calls cannot change it anyway. */
  if (decoder->size_seen)
    return;

  decoder->size_seen = TRUE;
  decoder->width = width;
  decoder->height = height;

  if (width <= 0 || height <= 0 || is_too_many_pixels (width, height))
    {
      /* A size of zero tells the image module to stop before it allocates. */
      decoder->size_refused = TRUE;
      gdk_pixbuf_loader_set_size (loader, 0, 0);
      return;
    }

  /* Asking for the final size here, rather than scaling afterwards, lets
   * the JPEG module decode at 1/2, 1/4 or 1/8 scale in the DCT. */
  gaze_detail_fit_size (decoder->detail, width, height, &fit_width, &fit_height);
  if (fit_width != width || fit_height != height)
    gdk_pixbuf_loader_set_size (loader, fit_width, fit_height);
}

static void
decoder_init (Decoder    *decoder,
              const char *name,
              GazeDetail  detail)
{
  memset (decoder, 0, sizeof *decoder);
  decoder->name = name;
  decoder->detail = detail;
  decoder->loader = gdk_pixbuf_loader_new ();
  g_signal_connect (decoder->loader,
                    "size-prepared",
                    G_CALLBACK (on_size_prepared),
                    decoder);
}

static void
decoder_clear (Decoder *decoder)
{
  if (decoder->loader != NULL)
    {
      /* Closing twice is harmless, and a loader must be closed before it
       * is finalized even when we gave up on the image. */
      g_signal_handlers_disconnect_by_data (decoder->loader, decoder);
      gdk_pixbuf_loader_close (decoder->loader, NULL);
      g_clear_object (&decoder->loader);
    }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Decoder, decoder_clear)

static void
decoder_set_error (Decoder  *decoder,
                   GError   *loader_error,
                   GError  **error)
{
  g_debug ("Could not decode “%s”: %s",
           decoder->name,
           loader_error != NULL ? loader_error->message : "no reason given");

  if (decoder->size_refused)
    set_size_error (error, decoder->name, decoder->width, decoder->height);
  else if (g_error_matches (loader_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_UNKNOWN_TYPE) ||
           g_error_matches (loader_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_UNSUPPORTED_OPERATION))
    g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_NOT_AN_IMAGE,
                 _("“%s” is not an image Gaze can read. "
                   "Attach a JPEG, PNG, GIF, WebP or HEIC photo."),
                 decoder->name);
  else if (g_error_matches (loader_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY))
    set_memory_error (error, decoder->name);
  else if (!decoder->size_seen &&
           decoder->scan.have_size &&
           is_too_many_pixels (decoder->scan.width, decoder->scan.height))
    set_size_error (error, decoder->name, decoder->scan.width, decoder->scan.height);
  else
    set_corrupt_error (error, decoder->name);
}

static gboolean
decoder_write (Decoder       *decoder,
               const guint8  *data,
               gsize          len,
               GError       **error)
{
  g_autoptr(GError) local_error = NULL;

  scan_feed (&decoder->scan, data, len);
  decoder->n_bytes += len;

  if (!gdk_pixbuf_loader_write (decoder->loader, data, len, &local_error) ||
      decoder->size_refused)
    {
      decoder_set_error (decoder, local_error, error);
      return FALSE;
    }

  return TRUE;
}

/* Returns the decoded pixbuf, at the prepared size but not yet upright. */
static GdkPixbuf *
decoder_close (Decoder  *decoder,
               GError  **error)
{
  g_autoptr(GError) local_error = NULL;
  GdkPixbuf *pixbuf;

  /* Some modules only look at the data, and report its size, on close. */
  if (!gdk_pixbuf_loader_close (decoder->loader, &local_error) || decoder->size_refused)
    {
      decoder_set_error (decoder, local_error, error);
      return NULL;
    }

  pixbuf = gdk_pixbuf_loader_get_pixbuf (decoder->loader);

  if (pixbuf == NULL || scan_is_truncated (&decoder->scan))
    {
      g_debug ("“%s” ended early (%" G_GSIZE_FORMAT " bytes)", decoder->name, decoder->n_bytes);
      set_corrupt_error (error, decoder->name);
      return NULL;
    }

  return g_object_ref (pixbuf);
}

/*
 * From decoded pixels to the prepared image.
 */

static int
get_orientation (GdkPixbuf *pixbuf)
{
  const char *option = gdk_pixbuf_get_option (pixbuf, "orientation");
  gint64 orientation;

  if (option == NULL || !g_ascii_string_to_signed (option, 10, 1, 8, &orientation, NULL))
    return 1;

  return (int) orientation;
}

/* JPEG has no alpha channel, so transparent areas become white, which is
 * how a person sees them in most viewers, rather than black. */
static GdkPixbuf *
flatten_onto_white (GdkPixbuf *pixbuf)
{
  g_autoptr(GdkPixbuf) flat = NULL;
  const guint8 *src_pixels;
  guint8 *dst_pixels;
  int width;
  int height;
  int src_stride;
  int dst_stride;
  int n_channels;

  g_assert (GDK_IS_PIXBUF (pixbuf));

  if (!gdk_pixbuf_get_has_alpha (pixbuf))
    return g_object_ref (pixbuf);

  width = gdk_pixbuf_get_width (pixbuf);
  height = gdk_pixbuf_get_height (pixbuf);
  n_channels = gdk_pixbuf_get_n_channels (pixbuf);
  src_stride = gdk_pixbuf_get_rowstride (pixbuf);

  g_assert (n_channels == 4);
  g_assert (gdk_pixbuf_get_bits_per_sample (pixbuf) == 8);

  flat = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  if (flat == NULL)
    return NULL;

  dst_stride = gdk_pixbuf_get_rowstride (flat);
  src_pixels = gdk_pixbuf_read_pixels (pixbuf);
  dst_pixels = gdk_pixbuf_get_pixels (flat);

  for (int y = 0; y < height; y++)
    {
      const guint8 *src = src_pixels + (gsize) y * src_stride;
      guint8 *dst = dst_pixels + (gsize) y * dst_stride;

      for (int x = 0; x < width; x++)
        {
          guint alpha = src[3];

          for (int c = 0; c < 3; c++)
            dst[c] = (guint8) ((src[c] * alpha + 255 * (255 - alpha) + 127) / 255);

          src += n_channels;
          dst += 3;
        }
    }

  return g_steal_pointer (&flat);
}

static GazeImage *
decoder_prepare (Decoder       *decoder,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr(GazeImage) self = NULL;
  g_autoptr(GdkPixbuf) decoded = NULL;
  g_autoptr(GdkPixbuf) upright = NULL;
  g_autoptr(GdkPixbuf) flat = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree char *buffer = NULL;
  gsize buffer_len = 0;
  int orientation;

  if (!(decoded = decoder_close (decoder, error)))
    return NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  orientation = get_orientation (decoded);

  upright = gdk_pixbuf_apply_embedded_orientation (decoded);
  if (upright != NULL)
    flat = flatten_onto_white (upright);

  /* The loader attaches the file's metadata (ICC profile, orientation) to
   * its pixbuf as options; a copy starts clean, so the prepared pixels can
   * neither be turned a second time nor carry the metadata along. */
  if (flat == decoded)
    {
      g_clear_object (&flat);
      flat = gdk_pixbuf_copy (decoded);
    }

  if (flat == NULL)
    {
      set_memory_error (error, decoder->name);
      return NULL;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  /* Only "quality" is passed, so nothing from the original file (EXIF,
   * GPS, ICC profile, comments) reaches the JPEG we upload. */
  if (!gdk_pixbuf_save_to_buffer (flat, &buffer, &buffer_len, "jpeg", &local_error,
                                  "quality", JPEG_QUALITY,
                                  NULL))
    {
      g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_CORRUPT,
                   _("Gaze could not convert “%s” to JPEG: %s. Try another photo."),
                   decoder->name, local_error->message);
      return NULL;
    }

  self = g_object_new (GAZE_TYPE_IMAGE, NULL);
  self->name = g_strdup (decoder->name);
  self->detail = decoder->detail;
  self->width = gdk_pixbuf_get_width (flat);
  self->height = gdk_pixbuf_get_height (flat);

  /* Orientations 5 to 8 turn the picture a quarter. */
  if (orientation >= 5)
    {
      self->source_width = decoder->height;
      self->source_height = decoder->width;
    }
  else
    {
      self->source_width = decoder->width;
      self->source_height = decoder->height;
    }

  self->base64 = g_base64_encode ((const guchar *) buffer, buffer_len);
  self->jpeg = g_bytes_new_take (g_steal_pointer (&buffer), buffer_len);
  self->pixbuf = g_steal_pointer (&flat);

  g_debug ("Prepared “%s”: %d×%d from %d×%d, orientation %d, %" G_GSIZE_FORMAT " bytes",
           self->name, self->width, self->height, self->source_width, self->source_height,
           orientation, buffer_len);

  return g_steal_pointer (&self);
}

/*
 * GazeImage
 */

static void
gaze_image_finalize (GObject *object)
{
  GazeImage *self = (GazeImage *)object;

  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->jpeg, g_bytes_unref);
  g_clear_pointer (&self->base64, g_free);
  g_clear_object (&self->pixbuf);

  G_OBJECT_CLASS (gaze_image_parent_class)->finalize (object);
}

static void
gaze_image_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  GazeImage *self = GAZE_IMAGE (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_DETAIL:
      g_value_set_enum (value, self->detail);
      break;

    case PROP_WIDTH:
      g_value_set_int (value, self->width);
      break;

    case PROP_HEIGHT:
      g_value_set_int (value, self->height);
      break;

    case PROP_SOURCE_WIDTH:
      g_value_set_int (value, self->source_width);
      break;

    case PROP_SOURCE_HEIGHT:
      g_value_set_int (value, self->source_height);
      break;

    case PROP_JPEG:
      g_value_set_boxed (value, self->jpeg);
      break;

    case PROP_BASE64:
      g_value_set_string (value, self->base64);
      break;

    case PROP_PIXBUF:
      g_value_set_object (value, self->pixbuf);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gaze_image_class_init (GazeImageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gaze_image_finalize;
  object_class->get_property = gaze_image_get_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_DETAIL] =
    g_param_spec_enum ("detail", NULL, NULL,
                       GAZE_TYPE_DETAIL,
                       GAZE_DETAIL_AUTO,
                       (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_WIDTH] =
    g_param_spec_int ("width", NULL, NULL,
                      0, G_MAXINT, 0,
                      (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_HEIGHT] =
    g_param_spec_int ("height", NULL, NULL,
                      0, G_MAXINT, 0,
                      (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_SOURCE_WIDTH] =
    g_param_spec_int ("source-width", NULL, NULL,
                      0, G_MAXINT, 0,
                      (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_SOURCE_HEIGHT] =
    g_param_spec_int ("source-height", NULL, NULL,
                      0, G_MAXINT, 0,
                      (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_JPEG] =
    g_param_spec_boxed ("jpeg", NULL, NULL,
                        G_TYPE_BYTES,
                        (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_BASE64] =
    g_param_spec_string ("base64", NULL, NULL,
                         NULL,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  properties[PROP_PIXBUF] =
    g_param_spec_object ("pixbuf", NULL, NULL,
                         GDK_TYPE_PIXBUF,
                         (G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
gaze_image_init (GazeImage *self G_GNUC_UNUSED)
{
}

/*
 * Detail
 */

const char *
gaze_detail_to_string (GazeDetail detail)
{
  switch (detail)
    {
    case GAZE_DETAIL_AUTO:
      return "auto";

    case GAZE_DETAIL_LOW:
      return "low";

    case GAZE_DETAIL_HIGH:
      return "high";

    default:
      g_return_val_if_reached (NULL);
    }
}

gboolean
gaze_detail_from_string (const char *text,
                         GazeDetail *detail)
{
  g_return_val_if_fail (detail != NULL, FALSE);

  if (g_strcmp0 (text, "auto") == 0)
    *detail = GAZE_DETAIL_AUTO;
  else if (g_strcmp0 (text, "low") == 0)
    *detail = GAZE_DETAIL_LOW;
  else if (g_strcmp0 (text, "high") == 0)
    *detail = GAZE_DETAIL_HIGH;
  else
    return FALSE;

  return TRUE;
}

/**
 * gaze_detail_fit_size:
 * @detail: the detail the image is sent with
 * @width: the image's width
 * @height: the image's height
 * @out_width: (out): where to store the width to send
 * @out_height: (out): where to store the height to send
 *
 * Computes the size the service works with for @detail, so that we never
 * upload pixels it would throw away. Images are never made larger.
 *
 * Both rules are symmetric, so the size can be computed before the EXIF
 * orientation is applied.
 */
void
gaze_detail_fit_size (GazeDetail  detail,
                      int         width,
                      int         height,
                      int        *out_width,
                      int        *out_height)
{
  double scale;

  g_return_if_fail (out_width != NULL);
  g_return_if_fail (out_height != NULL);

  *out_width = width;
  *out_height = height;

  g_return_if_fail (width > 0);
  g_return_if_fail (height > 0);

  switch (detail)
    {
    case GAZE_DETAIL_LOW:
      scale = MIN ((double) LOW_MAX_SIDE / width, (double) LOW_MAX_SIDE / height);
      break;

    case GAZE_DETAIL_AUTO:
    case GAZE_DETAIL_HIGH:
      scale = MIN ((double) HIGH_MAX_SHORT / MIN (width, height),
                   (double) HIGH_MAX_LONG / MAX (width, height));
      break;

    default:
      g_return_if_reached ();
    }

  if (scale >= 1.0)
    return;

  *out_width = MAX (1, (int) lround (width * scale));
  *out_height = MAX (1, (int) lround (height * scale));
}

/*
 * Preparing
 */

static gboolean
is_valid_detail (GazeDetail detail)
{
  return detail == GAZE_DETAIL_AUTO || detail == GAZE_DETAIL_LOW || detail == GAZE_DETAIL_HIGH;
}

static void
set_empty_error (GError     **error,
                 const char  *name)
{
  g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_EMPTY,
               _("“%s” is empty. Attach a photo that has a picture in it."),
               name);
}

/**
 * gaze_image_prepare_bytes:
 * @bytes: the contents of an image file
 * @name: the name to show for the image, such as its file name
 * @detail: the detail to prepare the image for
 * @cancellable: (nullable): a #GCancellable
 * @error: a location for a #GError
 *
 * Decodes @bytes at the size @detail needs, turns the picture upright,
 * flattens transparency onto white and encodes it as a JPEG without any
 * of the original metadata.
 *
 * This blocks; on the main thread use gaze_image_prepare_bytes_async().
 *
 * Returns: (transfer full): the prepared image, or %NULL with @error set
 */
GazeImage *
gaze_image_prepare_bytes (GBytes        *bytes,
                          const char    *name,
                          GazeDetail     detail,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_auto(Decoder) decoder = { 0 };
  const guint8 *data;
  gsize size;
  gsize offset;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (is_valid_detail (detail), NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  data = g_bytes_get_data (bytes, &size);

  if (size == 0)
    {
      set_empty_error (error, name);
      return NULL;
    }

  decoder_init (&decoder, name, detail);

  for (offset = 0; offset < size; offset += CHUNK_SIZE)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !decoder_write (&decoder, data + offset, MIN (CHUNK_SIZE, size - offset), error))
        return NULL;
    }

  return decoder_prepare (&decoder, cancellable, error);
}

static char *
get_file_name (GFile     *file,
               GFileInfo *info)
{
  g_autofree char *basename = NULL;

  if (info != NULL && g_file_info_get_display_name (info) != NULL)
    return g_strdup (g_file_info_get_display_name (info));

  if ((basename = g_file_get_basename (file)))
    return g_filename_display_name (basename);

  return g_file_get_parse_name (file);
}

/**
 * gaze_image_prepare_file:
 * @file: an image file
 * @detail: the detail to prepare the image for
 * @cancellable: (nullable): a #GCancellable
 * @error: a location for a #GError
 *
 * Like gaze_image_prepare_bytes(), but reads @file in chunks as it decodes,
 * so that a large file is never held in memory whole. The image is named
 * after the file's display name.
 *
 * Returns: (transfer full): the prepared image, or %NULL with @error set
 */
GazeImage *
gaze_image_prepare_file (GFile         *file,
                         GazeDetail     detail,
                         GCancellable  *cancellable,
                         GError       **error)
{
  /* Declared first so that it outlives the decoder, which borrows it. */
  g_autofree char *name = NULL;
  g_auto(Decoder) decoder = { 0 };
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autofree guint8 *buffer = NULL;
  gsize n_read;

  g_return_val_if_fail (G_IS_FILE (file), NULL);
  g_return_val_if_fail (is_valid_detail (detail), NULL);
  g_return_val_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  info = g_file_query_info (file,
                            G_FILE_ATTRIBUTE_STANDARD_DISPLAY_NAME,
                            G_FILE_QUERY_INFO_NONE,
                            cancellable,
                            &local_error);

  if (info == NULL)
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }

      /* Opening the file below says what is wrong, if anything is. */
      g_clear_error (&local_error);
    }

  name = get_file_name (file, info);

  if (!(stream = g_file_read (file, cancellable, &local_error)))
    {
      set_unreadable_error (error, name, local_error);
      return NULL;
    }

  buffer = g_malloc (CHUNK_SIZE);
  decoder_init (&decoder, name, detail);

  do
    {
      if (!g_input_stream_read_all (G_INPUT_STREAM (stream), buffer, CHUNK_SIZE, &n_read,
                                    cancellable, &local_error))
        {
          set_unreadable_error (error, name, local_error);
          return NULL;
        }

      if (n_read > 0 && !decoder_write (&decoder, buffer, n_read, error))
        return NULL;
    }
  while (n_read == CHUNK_SIZE);

  if (decoder.n_bytes == 0)
    {
      set_empty_error (error, name);
      return NULL;
    }

  return decoder_prepare (&decoder, cancellable, error);
}

/*
 * Asynchronous variants
 */

typedef struct
{
  GFile      *file;
  GBytes     *bytes;
  char       *name;
  GazeDetail  detail;
} PrepareData;

static void
prepare_data_free (gpointer data)
{
  PrepareData *prepare = data;

  g_clear_object (&prepare->file);
  g_clear_pointer (&prepare->bytes, g_bytes_unref);
  g_clear_pointer (&prepare->name, g_free);
  g_free (prepare);
}

static void
prepare_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  PrepareData *prepare = task_data;
  g_autoptr(GazeImage) image = NULL;
  g_autoptr(GError) error = NULL;

  g_assert (G_IS_TASK (task));
  g_assert (source_object == NULL);
  g_assert (prepare != NULL);

  if (prepare->file != NULL)
    image = gaze_image_prepare_file (prepare->file, prepare->detail, cancellable, &error);
  else
    image = gaze_image_prepare_bytes (prepare->bytes, prepare->name, prepare->detail,
                                      cancellable, &error);

  if (image == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, g_steal_pointer (&image), g_object_unref);
}

static void
prepare_in_thread (PrepareData         *prepare,
                   gpointer             source_tag,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_task_set_name (task, "[gaze] prepare image");
  g_task_set_task_data (task, prepare, prepare_data_free);
  g_task_run_in_thread (task, prepare_thread);
}

/**
 * gaze_image_prepare_file_async:
 * @file: an image file
 * @detail: the detail to prepare the image for
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the image is ready
 * @user_data: data for @callback
 *
 * Runs gaze_image_prepare_file() in a worker thread.
 */
void
gaze_image_prepare_file_async (GFile               *file,
                               GazeDetail           detail,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  PrepareData *prepare;

  g_return_if_fail (G_IS_FILE (file));
  g_return_if_fail (is_valid_detail (detail));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  prepare = g_new0 (PrepareData, 1);
  prepare->file = g_object_ref (file);
  prepare->detail = detail;

  prepare_in_thread (prepare, gaze_image_prepare_file_async, cancellable, callback, user_data);
}

/**
 * gaze_image_prepare_bytes_async:
 * @bytes: the contents of an image file
 * @name: the name to show for the image
 * @detail: the detail to prepare the image for
 * @cancellable: (nullable): a #GCancellable
 * @callback: called when the image is ready
 * @user_data: data for @callback
 *
 * Runs gaze_image_prepare_bytes() in a worker thread.
 */
void
gaze_image_prepare_bytes_async (GBytes              *bytes,
                                const char          *name,
                                GazeDetail           detail,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  PrepareData *prepare;

  g_return_if_fail (bytes != NULL);
  g_return_if_fail (name != NULL);
  g_return_if_fail (is_valid_detail (detail));
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  prepare = g_new0 (PrepareData, 1);
  prepare->bytes = g_bytes_ref (bytes);
  prepare->name = g_strdup (name);
  prepare->detail = detail;

  prepare_in_thread (prepare, gaze_image_prepare_bytes_async, cancellable, callback, user_data);
}

/**
 * gaze_image_prepare_finish:
 * @result: the result given to the callback
 * @error: a location for a #GError
 *
 * Completes gaze_image_prepare_file_async() or
 * gaze_image_prepare_bytes_async(). If the operation was cancelled, the
 * error is %G_IO_ERROR_CANCELLED, which is not worth showing.
 *
 * Returns: (transfer full): the prepared image, or %NULL with @error set
 */
GazeImage *
gaze_image_prepare_finish (GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, gaze_image_prepare_file_async) ||
                        g_async_result_is_tagged (result, gaze_image_prepare_bytes_async),
                        NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/*
 * Getters
 */

const char *
gaze_image_get_name (GazeImage *self)
{
  g_return_val_if_fail (GAZE_IS_IMAGE (self), NULL);

  return self->name;
}

GazeDetail
gaze_image_get_detail (GazeImage *self)
{
  g_return_val_if_fail (GAZE_IS_IMAGE (self), GAZE_DETAIL_AUTO);

  return self->detail;
}

int
gaze_image_get_width (GazeImage *self)
{
  g_return_val_if_fail (GAZE_IS_IMAGE (self), 0);

  return self->width;
}

int
gaze_image_get_height (GazeImage *self)
{
  g_return_val_if_fail (GAZE_IS_IMAGE (self), 0);

  return self->height;
}

int
gaze_image_get_source_width (GazeImage *self)
{
  g_return_val_if_fail (GAZE_IS_IMAGE (self), 0);

  return self->source_width;
}

int
gaze_image_get_source_height (GazeImage *self)
{
  g_return_val_if_fail (GAZE_IS_IMAGE (self), 0);

  return self->source_height;
}

/**
 * gaze_image_get_jpeg:
 * @self: a #GazeImage
 *
 * Returns: (transfer none): the prepared JPEG
 */
GBytes *
gaze_image_get_jpeg (GazeImage *self)
{
  g_return_val_if_fail (GAZE_IS_IMAGE (self), NULL);

  return self->jpeg;
}

/**
 * gaze_image_get_base64:
 * @self: a #GazeImage
 *
 * Returns: the prepared JPEG in base64, ready for a data: URL
 */
const char *
gaze_image_get_base64 (GazeImage *self)
{
  g_return_val_if_fail (GAZE_IS_IMAGE (self), NULL);

  return self->base64;
}

/**
 * gaze_image_get_pixbuf:
 * @self: a #GazeImage
 *
 * Returns: (transfer none): the prepared pixels, upright, without alpha,
 *   for thumbnails
 */
GdkPixbuf *
gaze_image_get_pixbuf (GazeImage *self)
{
  g_return_val_if_fail (GAZE_IS_IMAGE (self), NULL);

  return self->pixbuf;
}
