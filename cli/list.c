// SPDX-License-Identifier: GPL-2.0-only
/*
 * `xcall list`: the function catalogue as a table, or one JSON object per
 * function with its arguments and result fields (the keys of its records).
 */
#include <argp.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "format.h"

static const struct argp_option list_options[] = {
	XC_OPTION_JSON("one JSON object per function and line", 0),
	{ 0 }
};

static const char list_doc[] = "List the functions xcall can run, with "
	"their arguments, privilege, backends and result fields.";

static void backends_text(unsigned int bk, char *buf, size_t len)
{
	static const struct {
		unsigned int bit;
		const char *name;
	} names[] = {
		{ XCALL_BK_THREADS, "threads" },
		{ XCALL_BK_KMOD, "kmod" },
		{ XCALL_BK_DAEMON, "daemon" },
	};
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; i < 3; i++)
		if (bk & names[i].bit)
			snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
				 *buf ? "," : "", names[i].name);
}

static void list_json(struct sbuf *sb, const struct xcall_fn_info *fi)
{
	const struct xcall_field_info *f;
	char bk[64], *p, *q;
	unsigned int j;

	sb_printf(sb, "{\"name\":\"%s\",\"id\":%u,\"summary\":", fi->name,
		  fi->id);
	sb_json_str(sb, fi->summary);
	sb_printf(sb, ",\"min_args\":%u,\"max_args\":%u,\"args\":[",
		  fi->min_args, fi->max_args);
	for (j = 0; j < fi->max_args; j++) {
		sb_printf(sb, "%s{\"name\":", j ? "," : "");
		sb_json_str(sb, fi->args[j].name);
		sb_puts(sb, ",\"help\":");
		sb_json_str(sb, fi->args[j].help);
		sb_printf(sb, ",\"min\":%llu,\"max\":%llu,\"default\":",
			  (unsigned long long)fi->args[j].min,
			  (unsigned long long)fi->args[j].max);
		/* A required argument has no default. */
		if (j < fi->min_args)
			sb_puts(sb, "null}");
		else
			sb_printf(sb, "%llu}",
				  (unsigned long long)fi->args[j].dflt);
	}
	sb_printf(sb, "],\"priv\":\"%s\",\"backends\":[",
		  fi->priv == XCALL_PRIV_ADMIN ? "admin" : "any");
	backends_text(fi->backends, bk, sizeof(bk));
	for (p = bk, j = 0; *p; p = q, j++) {
		q = strchr(p, ',');
		if (q)
			*q++ = '\0';
		else
			q = p + strlen(p);
		sb_printf(sb, "%s\"%s\"", j ? "," : "", p);
	}
	sb_puts(sb, "],\"fields\":[");
	for (f = fi->fields, j = 0; f->key; f++, j++)
		sb_printf(sb, "%s\"%s\"", j ? "," : "", f->key);
	sb_puts(sb, "]}\n");
}

int cmd_list(int argc, char **argv)
{
	const struct xcall_fn_info *fi;
	char args[64], bk[64], fields[256];
	const char *row[6];
	struct table t;
	unsigned int i, j;
	struct xc_opts o;
	struct sbuf sb;

	if (xc_parse_opts("list", list_options, list_doc, argc, argv, &o))
		return XC_EXIT_USAGE;
	sb_init(&sb);
	table_init(&t, 6);
	table_add(&t, (const char *const[]){ "NAME", "ARGS", "PRIV",
					     "BACKENDS", "FIELDS", "SUMMARY" });
	for (i = 0; i < xcall_fn_count(); i++) {
		fi = xcall_fn_by_id(i);
		if (o.json) {
			list_json(&sb, fi);
			continue;
		}
		args[0] = '\0';
		for (j = 0; j < fi->max_args; j++)
			snprintf(args + strlen(args),
				 sizeof(args) - strlen(args),
				 j < fi->min_args ? "%s%s" : "%s[%s]",
				 j ? " " : "", fi->args[j].name);
		fields[0] = '\0';
		for (j = 0; fi->fields[j].key; j++)
			snprintf(fields + strlen(fields),
				 sizeof(fields) - strlen(fields), "%s%s",
				 j ? "," : "", fi->fields[j].key);
		backends_text(fi->backends, bk, sizeof(bk));
		row[0] = fi->name;
		row[1] = *args ? args : NULL;
		row[2] = fi->priv == XCALL_PRIV_ADMIN ? "admin" : "any";
		/* msr off x86: in the table of ids, on no backend here. */
		row[3] = *bk ? bk : "none (not on this architecture)";
		row[4] = *fields ? fields : NULL;
		row[5] = fi->summary;
		table_add(&t, row);
	}
	if (!o.json)
		table_render(&t, &sb);
	table_free(&t);
	return xc_emit(&sb);
}
