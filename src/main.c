/* main.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#define G_LOG_DOMAIN "gaze"

#include "config.h"

#include <locale.h>
#include <glib/gi18n.h>

#include "gaze-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GazeApplication) app = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  /* Standard output carries the answer of `gaze --ask`; logs go elsewhere. */
  g_log_writer_default_set_use_stderr (TRUE);

  app = gaze_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}
