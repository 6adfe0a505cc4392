/* gaze-image.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze-image"

#include "config.h"

#include <errno.h>
#include <sys/resource.h>

#include <string.h>

#include <glib/gi18n.h>

#include "gaze-image.h"
#include "gaze-jpeg-private.h"

#define MEGAPIXELS(n)    ((gint64) (n) * 1000000)
#define CHUNK_SIZE       (64 * 1024)
#define HEAD_SIZE        64
#define MAX_WORKERS      4
#define WORKER_NICENESS  10
#define WHOLE_FILE       G_MAXSIZE
#define JPEG_QUALITY     85

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
  gboolean  progressive;
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
              /* SOF2, SOF6, SOF10 and SOF14 start progressive frames. */
              scan->progressive = (scan->code & 0x03) == 0x02;
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
 * Formats. Gaze recognizes the formats it sends by their first bytes, never
 * by the file name, and hands each to the one gdk-pixbuf loader for it. The
 * other loaders (icons, cursors, SVG, Targa...) never see a dropped file.
 */

typedef enum
{
  FORMAT_UNKNOWN,
  FORMAT_JPEG,
  FORMAT_PNG,
  FORMAT_GIF,
  FORMAT_WEBP,
  FORMAT_HEIF,
  FORMAT_TIFF,
  FORMAT_BMP,
  N_FORMATS
} Format;

typedef struct
{
  const char *name;          /* As people know it, for messages. */
  const char *module;        /* How gdk-pixbuf's loader for it is named:
                              * prefixes, separated by spaces; NULL for
                              * JPEG, which gaze-jpeg decodes. */
  gint64      max_pixels;
  guint       decode_cost;   /* Bytes a source pixel takes while decoding; 0 if scaled. */
  gsize       batch;         /* Bytes given to the loader at once; 0 for each chunk read. */
  gboolean    scale_after;
} FormatInfo;

/*
 * The pixel limits bound what decoding costs, which is not the same for
 * every format:
 *
 * - JPEGs are decoded by libjpeg at 1/2, 1/4 or 1/8 of their size, and
 *   averaged down further as their rows come, so a JPEG never exists at
 *   full size in memory: 100 megapixels take about 8 MB, and a gigapixel
 *   panorama no more. Decoding takes about 3 ms a megapixel. A progressive
 *   JPEG's coefficients, 3 to 6 bytes a pixel, go to a temporary file once
 *   they pass 16 MB (see gaze-jpeg.c).
 * - PNG, GIF, TIFF and BMP are decoded at full size, 4 bytes a pixel (TIFF
 *   also keeps the whole file), and scaled afterwards: 50 megapixels are
 *   about 200 MB.
 * - libheif decodes the whole picture, then converts it to RGBA: about
 *   10 bytes a pixel. The limit still lets an iPhone's 48 MP photos through.
 *
 * "batch": gdk-pixbuf 2.42's GIF loader does work in proportion to all the
 * data so far each time more comes, and moves its whole buffer for every
 * 255-byte block, so both small and very large writes are slow: a 4 MB GIF
 * took 3 s in 64 kB writes, 1.9 s in one write and 0.5 s in 1 MB writes.
 * The HEIF loader keeps everything until the end anyway; holding the whole
 * file ourselves lets us check its structure and its declared size before
 * libheif decodes the whole picture.
 *
 * "scale_after": libheif scales with the nearest pixel, which makes text
 * jagged, so gdk-pixbuf's averaging filter scales HEIF pictures instead.
 *
 * "decode_cost" is what a pixel costs while decoding, as measured (a 50 MP
 * PNG with alpha added 198 MB, a 48 MP HEIC 458 MB); the preparations
 * running at once share a budget of it.
 */
static const FormatInfo formats[N_FORMATS] = {
  [FORMAT_JPEG] = { "JPEG", NULL, MEGAPIXELS (1000), 0, 0, FALSE },
  [FORMAT_PNG] = { "PNG", "png", MEGAPIXELS (50), 4, 0, FALSE },
  [FORMAT_GIF] = { "GIF", "gif", MEGAPIXELS (50), 4, 1024 * 1024, FALSE },
  [FORMAT_WEBP] = { "WebP", "webp", MEGAPIXELS (50), 0, 0, FALSE },
  [FORMAT_HEIF] = { "HEIF", "heif heic", MEGAPIXELS (50), 10, WHOLE_FILE, TRUE },
  [FORMAT_TIFF] = { "TIFF", "tiff", MEGAPIXELS (50), 4, 0, FALSE },
  [FORMAT_BMP] = { "BMP", "bmp", MEGAPIXELS (50), 4, 0, FALSE },
};

/* A JPEG in several scans, as progressive ones are: its coefficients take
 * a temporary file of 3 bytes a pixel (6 for a 4:4:4 one), up to 1.2 GB at
 * the limit, and decoding takes about 17 ms a megapixel. A byte a pixel of
 * the decoding budget keeps more than two large ones from filling the disk
 * at once. */
static const FormatInfo progressive_jpeg = {
  "progressive JPEG", NULL, MEGAPIXELS (200), 1, 0, FALSE
};

/*
 * The decoding budget. Decoding at full size costs memory in proportion to
 * the pixels; the preparations running at once share this much, so that ten
 * large PNGs or HEICs dropped together decode one or two at a time instead
 * of all at once. One that needs more than the whole budget waits until it
 * runs alone.
 */
#define DECODE_BUDGET    ((guint64) 512 * 1024 * 1024)

static GMutex budget_lock;
static GCond budget_cond;
static guint64 budget_used;

static gboolean
reserve_budget (guint64       amount,
                GCancellable *cancellable)
{
  g_mutex_lock (&budget_lock);

  while (budget_used > 0 && budget_used + amount > DECODE_BUDGET)
    {
      /* Woken when budget is released; the timeout notices cancelling. */
      if (g_cancellable_is_cancelled (cancellable))
        {
          g_mutex_unlock (&budget_lock);
          return FALSE;
        }

      g_cond_wait_until (&budget_cond, &budget_lock,
                         g_get_monotonic_time () + 50 * G_TIME_SPAN_MILLISECOND);
    }

  budget_used += amount;
  g_mutex_unlock (&budget_lock);

  return TRUE;
}

static void
release_budget (guint64 amount)
{
  g_mutex_lock (&budget_lock);
  budget_used -= amount;
  g_cond_broadcast (&budget_cond);
  g_mutex_unlock (&budget_lock);
}

static inline guint32
read_uint32_le (const guint8 *data)
{
  return ((guint32) data[3] << 24) | ((guint32) data[2] << 16) | ((guint32) data[1] << 8) | data[0];
}

static inline guint16
read_uint16_le (const guint8 *data)
{
  return (guint16) ((data[1] << 8) | data[0]);
}

/* An ISO base media file (HEIF, but also MP4 and QuickTime videos) names
 * its brands in its first box. */
static gboolean
has_heif_brand (const guint8 *data,
                gsize         len)
{
  static const char brands[][4] = {
    { 'h', 'e', 'i', 'c' }, { 'h', 'e', 'i', 'x' }, { 'h', 'e', 'i', 'm' }, { 'h', 'e', 'i', 's' },
    { 'h', 'e', 'v', 'c' }, { 'h', 'e', 'v', 'x' }, { 'm', 'i', 'f', '1' }, { 'm', 'i', 'f', '2' },
    { 'm', 's', 'f', '1' }, { 'a', 'v', 'i', 'f' }, { 'a', 'v', 'i', 's' },
  };
  gsize box_size;

  if (len < 16 || memcmp (data + 4, "ftyp", 4) != 0)
    return FALSE;

  box_size = MIN (read_uint32_be (data), len);

  /* The major brand, a version, then the compatible brands. */
  for (gsize offset = 8; offset + 4 <= box_size; offset += offset == 8 ? 8 : 4)
    for (guint i = 0; i < G_N_ELEMENTS (brands); i++)
      if (memcmp (data + offset, brands[i], 4) == 0)
        return TRUE;

  return FALSE;
}

static gboolean
is_bmp_header_size (guint32 size)
{
  /* OS/2 1.x, Windows 3 and the later versions with colour masks. */
  return size == 12 || size == 40 || size == 52 || size == 56 || size == 64 ||
         size == 108 || size == 124;
}

static Format
sniff_format (const guint8 *data,
              gsize         len)
{
  if (len >= 2 && data[0] == 0xff && data[1] == 0xd8)
    return FORMAT_JPEG;

  if (len >= sizeof png_signature && memcmp (data, png_signature, sizeof png_signature) == 0)
    return FORMAT_PNG;

  if (len >= 6 && (memcmp (data, "GIF87a", 6) == 0 || memcmp (data, "GIF89a", 6) == 0))
    return FORMAT_GIF;

  if (len >= 12 && memcmp (data, "RIFF", 4) == 0 && memcmp (data + 8, "WEBP", 4) == 0)
    return FORMAT_WEBP;

  if (has_heif_brand (data, len))
    return FORMAT_HEIF;

  if (len >= 4 && (memcmp (data, "II*\0", 4) == 0 || memcmp (data, "MM\0*", 4) == 0))
    return FORMAT_TIFF;

  if (len >= 18 && data[0] == 'B' && data[1] == 'M' &&
      is_bmp_header_size (read_uint32_le (data + 14)))
    return FORMAT_BMP;

  return FORMAT_UNKNOWN;
}

/* Returns how many bytes the header says the file has, or 0 when it does not
 * say. gdk-pixbuf's BMP and WebP loaders return a picture with a blank part
 * rather than an error when the file stops early. */
static guint64
get_declared_length (Format        format,
                     const guint8 *head,
                     gsize         head_len)
{
  if (format == FORMAT_WEBP && head_len >= 8)
    return (guint64) read_uint32_le (head + 4) + 8;

  if (format == FORMAT_BMP && head_len >= 34)
    {
      guint32 data_offset = read_uint32_le (head + 10);
      guint32 header_size = read_uint32_le (head + 14);
      guint32 compression = 0;
      gint64 width;
      gint64 height;
      guint bits;
      guint64 row;

      if (header_size == 12)
        {
          width = read_uint16_le (head + 18);
          height = read_uint16_le (head + 20);
          bits = read_uint16_le (head + 24);
        }
      else
        {
          width = (gint32) read_uint32_le (head + 18);
          height = (gint32) read_uint32_le (head + 22);
          bits = read_uint16_le (head + 28);
          compression = read_uint32_le (head + 30);
        }

      /* Only uncompressed rows have a length known in advance; top-down
       * bitmaps give a negative height. */
      if ((compression != 0 && compression != 3 && compression != 6) ||
          width <= 0 || height == 0 || bits == 0 || bits > 32)
        return 0;

      row = (((guint64) width * bits + 31) / 32) * 4;
      height = ABS (height);

      if (row > G_MAXUINT32 || (guint64) height > G_MAXUINT32)
        return 0;

      return data_offset + row * (guint64) height;
    }

  return 0;
}

/*
 * HEIF: the boxes of an ISO base media file.
 */

typedef struct
{
  gboolean damaged;
  gboolean has_meta;
  gint64   width;
  gint64   height;
} HeifInfo;

/* Reads the header of the box at @offset, which must end by @end. */
static gboolean
read_box (const guint8  *data,
          gsize          offset,
          gsize          end,
          const guint8 **type,
          gsize         *body,
          gsize         *box_end)
{
  guint64 size;
  gsize header = 8;

  if (offset > end || end - offset < 8)
    return FALSE;

  size = read_uint32_be (data + offset);
  *type = data + offset + 4;

  if (size == 1)
    {
      if (end - offset < 16)
        return FALSE;
      size = ((guint64) read_uint32_be (data + offset + 8) << 32) |
             read_uint32_be (data + offset + 12);
      header = 16;
    }
  else if (size == 0)
    {
      /* The last box may run to the end of the file. */
      size = end - offset;
    }

  if (size < header || size > end - offset)
    return FALSE;

  *body = offset + header;
  *box_end = offset + size;

  return TRUE;
}

static gboolean
find_box (const guint8 *data,
          gsize         start,
          gsize         end,
          const char   *wanted,
          gsize        *body,
          gsize        *box_end)
{
  const guint8 *type;

  for (gsize offset = start; read_box (data, offset, end, &type, body, box_end); offset = *box_end)
    if (memcmp (type, wanted, 4) == 0)
      return TRUE;

  return FALSE;
}

/* Every picture in the file declares its size in an 'ispe' property, inside
 * meta/iprp/ipco; a grid's own one gives the whole picture. */
static void
read_heif_meta (const guint8 *data,
                gsize         start,
                gsize         end,
                HeifInfo     *info)
{
  const guint8 *type;
  gsize iprp, iprp_end;
  gsize ipco, ipco_end;
  gsize body, box_end;

  info->has_meta = TRUE;

  /* 'meta' is a full box: a version and flags come first. */
  if (!find_box (data, start + 4, end, "iprp", &iprp, &iprp_end) ||
      !find_box (data, iprp, iprp_end, "ipco", &ipco, &ipco_end))
    return;

  for (gsize offset = ipco;
       read_box (data, offset, ipco_end, &type, &body, &box_end);
       offset = box_end)
    {
      gint64 width;
      gint64 height;

      if (memcmp (type, "ispe", 4) != 0 || box_end - body < 12)
        continue;

      width = read_uint32_be (data + body + 4);
      height = read_uint32_be (data + body + 8);

      if (width * height > info->width * info->height)
        {
          info->width = width;
          info->height = height;
        }
    }
}

static void
read_heif (const guint8 *data,
           gsize         len,
           HeifInfo     *info)
{
  const guint8 *type;
  gsize body;
  gsize box_end;
  gsize offset = 0;

  memset (info, 0, sizeof *info);

  /* The boxes must tile the file exactly; one that runs past its end means
   * the file stops early. */
  while (offset < len)
    {
      if (!read_box (data, offset, len, &type, &body, &box_end))
        {
          info->damaged = TRUE;
          return;
        }

      if (memcmp (type, "meta", 4) == 0 && !info->has_meta)
        read_heif_meta (data, body, box_end, info);

      offset = box_end;
    }
}

/*
 * Errors. Each names the file and says what to do about it.
 */

static gboolean
is_too_many_pixels (const FormatInfo *format,
                    gint64            width,
                    gint64            height)
{
  return width * height > format->max_pixels;
}

static void
set_size_error (GError           **error,
                const char        *name,
                const FormatInfo  *format,
                gint64             width,
                gint64             height)
{
  if (width <= 0 || height <= 0)
    g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_CORRUPT,
                 _("“%s” claims to have no pixels, so it is damaged. "
                   "Save the photo again and attach the new copy."),
                 name);
  else
    g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_TOO_LARGE,
                 /* Translators: the first %s is a file name, then width × height, then
                  * an image format such as “PNG” and the largest size Gaze takes in it. */
                 _("“%s” is %u × %u pixels, more than "
                   "Gaze can prepare: a %s image may have at most %d megapixels. "
                   "Scale it down and attach it again."),
                 name, (guint) MIN (width, G_MAXUINT), (guint) MIN (height, G_MAXUINT),
                 format->name, (int) (format->max_pixels / MEGAPIXELS (1)));
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
set_not_an_image_error (GError     **error,
                        const char  *name)
{
  g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_NOT_AN_IMAGE,
               _("“%s” is not an image Gaze can read. "
                 "Attach a JPEG, PNG, HEIC, WebP, GIF, TIFF or BMP image."),
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
set_disk_error (GError     **error,
                const char  *name)
{
  g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_TOO_LARGE,
               _("There is not enough free disk space to prepare “%s”. "
                 "Free some space in your home folder or attach a smaller image."),
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
  GdkPixbufLoader  *loader;
  GazeJpeg         *jpeg;
  Format            kind;
  const FormatInfo *format;
  const char       *name;
  GazeDetail        detail;
  Scan              scan;
  GByteArray       *held;
  guint8            head[HEAD_SIZE];
  gsize             head_len;
  gsize             n_bytes;
  int               width;
  int               height;
  gboolean          size_seen;
  gboolean          size_refused;
  gboolean          cancelled;
  GCancellable     *cancellable;
  guint64           reserved;
} Decoder;

/* Waits until the decoding budget has room for @width × @height pixels. */
static gboolean
decoder_reserve (Decoder *decoder,
                 gint64   width,
                 gint64   height)
{
  guint64 amount = (guint64) width * (guint64) height * decoder->format->decode_cost;

  if (amount == 0 || decoder->reserved > 0)
    return TRUE;

  if (!reserve_budget (amount, decoder->cancellable))
    {
      decoder->cancelled = TRUE;
      return FALSE;
    }

  decoder->reserved = amount;

  return TRUE;
}

/* Decides, once the size is known, whether to go on and at what size.
 * Returns %FALSE if the picture is refused or the wait was cancelled. */
static gboolean
decoder_size_known (Decoder *decoder,
                    int      width,
                    int      height,
                    int     *fit_width,
                    int     *fit_height)
{
  decoder->size_seen = TRUE;
  decoder->width = width;
  decoder->height = height;
  *fit_width = width;
  *fit_height = height;

  if (width <= 0 || height <= 0 || is_too_many_pixels (decoder->format, width, height))
    {
      decoder->size_refused = TRUE;
      return FALSE;
    }

  if (!decoder_reserve (decoder, width, height))
    return FALSE;

  if (!decoder->format->scale_after)
    gaze_detail_fit_size (decoder->detail, width, height, fit_width, fit_height);

  return TRUE;
}

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

  if (!decoder_size_known (decoder, width, height, &fit_width, &fit_height))
    {
      /* A size of zero tells the image module to stop before it allocates. */
      gdk_pixbuf_loader_set_size (loader, 0, 0);
      return;
    }

  /* Asking for the final size here, rather than scaling afterwards, lets
   * the module decode straight to it where it can. */
  if (fit_width != width || fit_height != height)
    gdk_pixbuf_loader_set_size (loader, fit_width, fit_height);
}

static gboolean
on_jpeg_size (int       width,
              int       height,
              gboolean  multi_scan,
              int      *fit_width,
              int      *fit_height,
              gpointer  user_data)
{
  Decoder *decoder = user_data;

  /* Any JPEG in several scans keeps all its coefficients until the end,
   * a sequential one that sends a component at a time too. */
  if (multi_scan)
    decoder->format = &progressive_jpeg;

  return decoder_size_known (decoder, width, height, fit_width, fit_height);
}

static void
decoder_init (Decoder      *decoder,
              const char   *name,
              GazeDetail    detail,
              GCancellable *cancellable)
{
  memset (decoder, 0, sizeof *decoder);
  decoder->name = name;
  decoder->detail = detail;
  decoder->cancellable = cancellable;
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

  g_clear_pointer (&decoder->jpeg, gaze_jpeg_free);
  g_clear_pointer (&decoder->held, g_byte_array_unref);

  if (decoder->reserved > 0)
    {
      release_budget (decoder->reserved);
      decoder->reserved = 0;
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

  if (decoder->cancelled && g_cancellable_set_error_if_cancelled (decoder->cancellable, error))
    return;

  if (decoder->size_refused)
    set_size_error (error, decoder->name, decoder->format, decoder->width, decoder->height);
  else if (g_error_matches (loader_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_UNKNOWN_TYPE) ||
           g_error_matches (loader_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_UNSUPPORTED_OPERATION))
    set_not_an_image_error (error, decoder->name);
  else if (g_error_matches (loader_error, GDK_PIXBUF_ERROR, GDK_PIXBUF_ERROR_INSUFFICIENT_MEMORY))
    set_memory_error (error, decoder->name);
  else if (!decoder->size_seen &&
           decoder->scan.have_size &&
           is_too_many_pixels (decoder->scan.progressive ? &progressive_jpeg : decoder->format,
                               decoder->scan.width, decoder->scan.height))
    set_size_error (error, decoder->name,
                    decoder->scan.progressive ? &progressive_jpeg : decoder->format,
                    decoder->scan.width, decoder->scan.height);
  else if (g_error_matches (loader_error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
    set_disk_error (error, decoder->name);
  else
    set_corrupt_error (error, decoder->name);
}

static gboolean
is_module_for (const FormatInfo *format,
               const char       *module)
{
  g_auto(GStrv) prefixes = NULL;

  g_assert (format->module != NULL);

  prefixes = g_strsplit (format->module, " ", -1);
  for (guint i = 0; prefixes[i] != NULL; i++)
    {
      if (g_str_has_prefix (module, prefixes[i]))
        return TRUE;
    }

  return FALSE;
}

/* Creates the loader for the format, only once there is data for it: a
 * loader that is closed without data complains on the console. */
static gboolean
decoder_open_loader (Decoder  *decoder,
                     GError  **error)
{
  g_autoptr(GError) local_error = NULL;
  GSList *list;

  g_assert (decoder->loader == NULL);
  g_assert (decoder->format != NULL);

  /* libheif's loader has been called "heif" and "heif/avif"; where
   * gdk-pixbuf decodes through glycin, as in the current GNOME runtime, the
   * format is named "heic". */
  list = gdk_pixbuf_get_formats ();
  for (const GSList *l = list; l != NULL && decoder->loader == NULL; l = l->next)
    {
      g_autofree char *module = gdk_pixbuf_format_get_name (l->data);

      if (is_module_for (decoder->format, module) && !gdk_pixbuf_format_is_disabled (l->data))
        decoder->loader = gdk_pixbuf_loader_new_with_type (module, &local_error);
    }
  g_slist_free (list);

  if (decoder->loader == NULL)
    {
      g_debug ("No loader for %s: %s", decoder->format->name,
               local_error ? local_error->message : "not installed");
      g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_UNSUPPORTED,
                   /* Translators: %s is a file name, then an image format such as “HEIF”. */
                   _("“%s” is a %s image, and this computer has no decoder for %s images. "
                     "Convert it to JPEG or PNG and attach it again."),
                   decoder->name, decoder->format->name, decoder->format->name);
      return FALSE;
    }

  g_signal_connect (decoder->loader,
                    "size-prepared",
                    G_CALLBACK (on_size_prepared),
                    decoder);

  return TRUE;
}

static gboolean
decoder_write_loader (Decoder       *decoder,
                      const guint8  *data,
                      gsize          len,
                      GError       **error)
{
  g_autoptr(GError) local_error = NULL;

  if (decoder->kind == FORMAT_JPEG)
    {
      if (decoder->jpeg == NULL)
        decoder->jpeg = gaze_jpeg_new (on_jpeg_size, decoder, decoder->cancellable);

      if (!gaze_jpeg_write (decoder->jpeg, data, len, &local_error) ||
          g_cancellable_is_cancelled (decoder->cancellable))
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
              g_cancellable_is_cancelled (decoder->cancellable))
            decoder->cancelled = TRUE;
          decoder_set_error (decoder, local_error, error);
          return FALSE;
        }

      return TRUE;
    }

  if (decoder->loader == NULL && !decoder_open_loader (decoder, error))
    return FALSE;

  if (!gdk_pixbuf_loader_write (decoder->loader, data, len, &local_error) ||
      decoder->size_refused || decoder->cancelled)
    {
      decoder_set_error (decoder, local_error, error);
      return FALSE;
    }

  return TRUE;
}

static gboolean
decoder_write (Decoder       *decoder,
               const guint8  *data,
               gsize          len,
               GError       **error)
{
  if (decoder->format == NULL)
    {
      Format format = sniff_format (data, len);

      if (format == FORMAT_UNKNOWN)
        {
          g_debug ("“%s” starts with nothing Gaze recognizes", decoder->name);
          set_not_an_image_error (error, decoder->name);
          return FALSE;
        }

      decoder->kind = format;
      decoder->format = &formats[format];
      decoder->head_len = MIN (len, sizeof decoder->head);
      memcpy (decoder->head, data, decoder->head_len);

      if (decoder->format->batch > 0)
        decoder->held = g_byte_array_new ();
    }

  scan_feed (&decoder->scan, data, len);
  decoder->n_bytes += len;

  if (decoder->held == NULL)
    return decoder_write_loader (decoder, data, len, error);

  g_byte_array_append (decoder->held, data, len);

  if (decoder->held->len >= decoder->format->batch)
    {
      gboolean written = decoder_write_loader (decoder,
                                               decoder->held->data,
                                               decoder->held->len,
                                               error);

      g_byte_array_set_size (decoder->held, 0);
      return written;
    }

  return TRUE;
}

/* Checks what can be checked before a held format is decoded, then gives
 * the loader what it has not had yet. */
static gboolean
decoder_write_held (Decoder  *decoder,
                    GError  **error)
{
  g_autoptr(GByteArray) held = g_steal_pointer (&decoder->held);

  if (decoder->format == &formats[FORMAT_HEIF])
    {
      HeifInfo heif;

      read_heif (held->data, held->len, &heif);

      if (heif.damaged)
        {
          g_debug ("“%s” has a box that runs past its end", decoder->name);
          set_corrupt_error (error, decoder->name);
          return FALSE;
        }

      if (!heif.has_meta)
        {
          g_debug ("“%s” is an ISO media file without pictures", decoder->name);
          set_not_an_image_error (error, decoder->name);
          return FALSE;
        }

      if (is_too_many_pixels (decoder->format, heif.width, heif.height))
        {
          set_size_error (error, decoder->name, decoder->format, heif.width, heif.height);
          return FALSE;
        }

      /* libheif decodes before it tells the loader the size. */
      if (!decoder_reserve (decoder, heif.width, heif.height))
        {
          g_cancellable_set_error_if_cancelled (decoder->cancellable, error);
          return FALSE;
        }
    }

  return decoder_write_loader (decoder, held->data, held->len, error);
}

/* Returns the decoded pixbuf, not yet upright, and at the prepared size
 * unless the format scales afterwards. */
static GdkPixbuf *
decoder_close (Decoder  *decoder,
               GError  **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GdkPixbuf) owned = NULL;
  GdkPixbuf *pixbuf;
  guint64 declared_length;

  if (decoder->held != NULL && !decoder_write_held (decoder, error))
    return NULL;

  if (decoder->jpeg != NULL)
    {
      if (!(owned = gaze_jpeg_finish (decoder->jpeg, &local_error)) ||
          decoder->size_refused || decoder->cancelled)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            decoder->cancelled = TRUE;
          decoder_set_error (decoder, local_error, error);
          return NULL;
        }

      pixbuf = owned;
    }
  else
    {
      if (decoder->loader == NULL)
        {
          set_corrupt_error (error, decoder->name);
          return NULL;
        }

      /* Some modules only look at the data, and report its size, on close. */
      if (!gdk_pixbuf_loader_close (decoder->loader, &local_error) ||
          decoder->size_refused || decoder->cancelled)
        {
          decoder_set_error (decoder, local_error, error);
          return NULL;
        }

      pixbuf = gdk_pixbuf_loader_get_pixbuf (decoder->loader);
    }

  declared_length = get_declared_length (decoder->kind, decoder->head, decoder->head_len);

  if (pixbuf == NULL ||
      scan_is_truncated (&decoder->scan) ||
      decoder->n_bytes < declared_length)
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
  g_autoptr(GBytes) jpeg = NULL;
  int orientation;

  if (!(decoded = decoder_close (decoder, error)))
    return NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  orientation = get_orientation (decoded);

  if (decoder->format->scale_after)
    {
      int width = gdk_pixbuf_get_width (decoded);
      int height = gdk_pixbuf_get_height (decoded);
      int fit_width;
      int fit_height;

      gaze_detail_fit_size (decoder->detail, width, height, &fit_width, &fit_height);
      if (fit_width != width || fit_height != height)
        {
          g_autoptr(GdkPixbuf) scaled = NULL;

          scaled = gdk_pixbuf_scale_simple (decoded, fit_width, fit_height, GDK_INTERP_BILINEAR);
          if (scaled == NULL)
            {
              set_memory_error (error, decoder->name);
              return NULL;
            }

          /* The orientation rides along; nothing else is kept. */
          g_clear_object (&decoded);
          decoded = g_steal_pointer (&scaled);
          if (orientation != 1)
            {
              char value[2] = { '0' + orientation, '\0' };

              gdk_pixbuf_set_option (decoded, "orientation", value);
            }
        }
    }

  upright = gdk_pixbuf_apply_embedded_orientation (decoded);
  if (upright != NULL)
    flat = flatten_onto_white (upright);

  /* The loader attaches the file's metadata (ICC profile, orientation) to
   * its pixbuf as options. The prepared pixels must neither be turned a
   * second time nor carry the metadata along; the loader is done with the
   * pixbuf, so the options can go without copying the pixels. */
  if (flat != NULL && flat == decoded)
    {
      g_autoptr(GHashTable) options = gdk_pixbuf_get_options (flat);
      g_autofree char **keys = NULL;

      /* The table's keys belong to the pixbuf, so copy them before removing. */
      keys = (char **) g_hash_table_get_keys_as_array (options, NULL);
      for (guint i = 0; keys[i] != NULL; i++)
        keys[i] = g_strdup (keys[i]);
      g_clear_pointer (&options, g_hash_table_unref);

      for (guint i = 0; keys[i] != NULL; i++)
        {
          gdk_pixbuf_remove_option (flat, keys[i]);
          g_free (keys[i]);
        }
    }

  if (flat == NULL)
    {
      set_memory_error (error, decoder->name);
      return NULL;
    }

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  /* Written from the pixels alone, so nothing from the original file
   * (EXIF, GPS, ICC profile, comments) reaches the JPEG we upload. */
  if (!(jpeg = gaze_jpeg_encode (flat, JPEG_QUALITY, &local_error)))
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

  self->base64 = g_base64_encode (g_bytes_get_data (jpeg, NULL), g_bytes_get_size (jpeg));
  self->jpeg = g_steal_pointer (&jpeg);
  self->pixbuf = g_steal_pointer (&flat);

  g_debug ("Prepared “%s”: %d×%d from %d×%d, orientation %d, %" G_GSIZE_FORMAT " bytes",
           self->name, self->width, self->height, self->source_width, self->source_height,
           orientation, g_bytes_get_size (self->jpeg));

  return g_steal_pointer (&self);
}

/*
 * GazeImage
 */

static void
gaze_image_finalize (GObject *object)
{
  GazeImage *self = (GazeImage *)object;

  g_assert (GAZE_IS_IMAGE (self));

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
 * The side that is not at its limit is rounded down: rounding up can add a
 * column of 512-pixel tiles that the service bills for (8845 × 4421 would
 * become 1537 × 768, four tiles wide instead of three).
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
  gint64 long_side;
  gint64 short_side;
  gint64 fit_long;
  gint64 fit_short;

  g_return_if_fail (out_width != NULL);
  g_return_if_fail (out_height != NULL);

  *out_width = width;
  *out_height = height;

  g_return_if_fail (width > 0);
  g_return_if_fail (height > 0);

  long_side = MAX (width, height);
  short_side = MIN (width, height);

  switch (detail)
    {
    case GAZE_DETAIL_LOW:
      if (long_side <= LOW_MAX_SIDE)
        return;
      fit_long = LOW_MAX_SIDE;
      fit_short = short_side * LOW_MAX_SIDE / long_side;
      break;

    case GAZE_DETAIL_AUTO:
    case GAZE_DETAIL_HIGH:
      if (short_side <= HIGH_MAX_SHORT && long_side <= HIGH_MAX_LONG)
        return;

      /* Whichever limit asks for the smaller scale decides; in integers, so
       * that the limit is met exactly. */
      if (long_side * HIGH_MAX_SHORT <= short_side * HIGH_MAX_LONG)
        {
          fit_short = HIGH_MAX_SHORT;
          fit_long = long_side * HIGH_MAX_SHORT / short_side;
        }
      else
        {
          fit_long = HIGH_MAX_LONG;
          fit_short = short_side * HIGH_MAX_LONG / long_side;
        }
      break;

    default:
      g_return_if_reached ();
    }

  fit_short = MAX (1, fit_short);

  if (width >= height)
    {
      *out_width = (int) fit_long;
      *out_height = (int) fit_short;
    }
  else
    {
      *out_width = (int) fit_short;
      *out_height = (int) fit_long;
    }
}

/**
 * gaze_image_check_count:
 * @n_images: how many images one request would carry
 * @error: a location for a #GError
 *
 * Says whether @n_images fit in one request, and if not, what to do about
 * it, in a %GAZE_IMAGE_ERROR_TOO_MANY error. The new question's photos count
 * first (earlier turns' photos are left out to make room), so the sentence
 * speaks of the question.
 *
 * Returns: %TRUE if the service takes that many images at once
 */
gboolean
gaze_image_check_count (guint    n_images,
                        GError **error)
{
  g_autofree char *advice = NULL;
  guint excess;

  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n_images <= GAZE_MAX_IMAGES_PER_REQUEST)
    return TRUE;

  excess = n_images - GAZE_MAX_IMAGES_PER_REQUEST;
  advice = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Remove %u photo to send it.",
                                      "Remove %u photos to send it.",
                                      excess),
                            excess);

  g_set_error (error, GAZE_IMAGE_ERROR, GAZE_IMAGE_ERROR_TOO_MANY,
               /* Translators: the last %s is “Remove N photos to send it.” */
               _("A question can carry at most %d photos, and this one has %u. %s"),
               GAZE_MAX_IMAGES_PER_REQUEST, n_images, advice);

  return FALSE;
}

/*
 * Preparing
 */

/**
 * gaze_detail_is_valid:
 * @detail: a value that should be a #GazeDetail
 *
 * Returns: whether @detail is one of the three details
 */
gboolean
gaze_detail_is_valid (GazeDetail detail)
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
  g_return_val_if_fail (gaze_detail_is_valid (detail), NULL);
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

  decoder_init (&decoder, name, detail, cancellable);

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
  g_return_val_if_fail (gaze_detail_is_valid (detail), NULL);
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
  decoder_init (&decoder, name, detail, cancellable);

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
prepare_pool_func (gpointer data,
                   gpointer user_data G_GNUC_UNUSED)
{
  static GPrivate lowered;
  g_autoptr(GTask) task = data;

  /* Decoding yields to the thread that draws the window: on Linux the nice
   * value belongs to each thread, so this lowers only the worker.
   */
  if (g_private_get (&lowered) == NULL)
    {
#ifdef __linux__
      if (setpriority (PRIO_PROCESS, 0, WORKER_NICENESS) != 0)
        g_debug ("Could not lower the priority of an image worker: %s", g_strerror (errno));
#endif
      g_private_set (&lowered, GINT_TO_POINTER (1));
    }

  prepare_thread (task, NULL, g_task_get_task_data (task), g_task_get_cancellable (task));
}

/* Preparations get a pool of their own, no larger than the machine: ten
 * photos dropped at once then queue rather than take ten decoders' worth
 * of memory together, and the main thread always finds a processor free
 * soon enough to keep the interface smooth. */
static GThreadPool *
get_prepare_pool (void)
{
  static gsize initialized;
  static GThreadPool *pool;

  if (g_once_init_enter (&initialized))
    {
      guint n_threads = CLAMP (g_get_num_processors (), 1, MAX_WORKERS);

      /* Exclusive, so that its niced threads never run other work. */
      pool = g_thread_pool_new (prepare_pool_func, NULL, n_threads, TRUE, NULL);
      g_once_init_leave (&initialized, 1);
    }

  return pool;
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
  g_thread_pool_push (get_prepare_pool (), g_steal_pointer (&task), NULL);
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
  g_return_if_fail (gaze_detail_is_valid (detail));
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
  g_return_if_fail (gaze_detail_is_valid (detail));
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
