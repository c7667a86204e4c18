# SPDX-License-Identifier: GPL-2.0-only
# Sourced by scripts/vm/*.sh and scripts/sysroot.sh: the checkout and build
# directories, the table of flavours, where downloads are cached, and a
# private apt that fetches Debian packages of any architecture and suite
# without touching the machine's apt sources, its package lists or its dpkg
# architectures (and so without root).
# shellcheck shell=bash disable=SC2034

# The checkout ($SRC) and the build directory ($B), for the scripts and the
# makes they run.
vm_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=${SRC:-$(cd "$vm_dir/../.." && pwd)}
B=${B:-$SRC/build}
export SRC B
# shellcheck source=scripts/vm/flavour.sh
. "$vm_dir/flavour.sh"

# vm_parallel FN ARG...: FN ARG for every ARG, $XCALL_VM_JOBS (default 2)
# at a time; returns once all are done. Guests are booted this way.
vm_parallel() {
	local fn=$1 a running=0
	shift
	for a in "$@"; do
		"$fn" "$a" &
		running=$((running + 1))
		if [ "$running" -ge "${XCALL_VM_JOBS:-2}" ]; then
			wait -n
			running=$((running - 1))
		fi
	done
	wait
}

# The cache: $XCALL_VM_CACHE, else /var/cache/xcall-vm for root and
# ${XDG_CACHE_HOME:-~/.cache}/xcall-vm for anyone else.
if [ -n "${XCALL_VM_CACHE:-}" ]; then
	cache=$XCALL_VM_CACHE
elif [ "$(id -u)" = 0 ]; then
	cache=/var/cache/xcall-vm
else
	cache=${XDG_CACHE_HOME:-$HOME/.cache}/xcall-vm
fi

# Every architecture a guest or a cross build needs packages of.
xapt_archs="amd64 arm64 ppc64el"
# The suites: Debian 12, its updates and security fixes, and backports
# (the 6.12 kernels, QEMU 10).
xapt_suites="bookworm bookworm-updates bookworm-backports"

xapt_dir=$cache/apt
xapt_conf=$xapt_dir/apt.conf

xapt_say() { echo "  APT      $*"; }

# The machine's Debian mirrors, as its own apt configuration names them
# (a proxy or a local mirror keeps working), else deb.debian.org.
__xapt_uri() {
	apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 2>/dev/null |
		awk -v r="$1" '$1 == r { print $2; exit }'
}

# Write the private configuration (idempotent). Everything apt keeps lives
# under $xapt_dir; -c makes these settings win over /etc/apt/apt.conf.d
# (whose proxy settings, if any, still apply).
xapt_init() {
	local deb sec opts s
	mkdir -p "$xapt_dir/state/lists/partial" "$xapt_dir/cache/archives/partial" \
		"$xapt_dir/empty" || return 1
	[ -e "$xapt_dir/state/status" ] || : >"$xapt_dir/state/status"
	deb=$(__xapt_uri bookworm)
	sec=$(__xapt_uri bookworm-security)
	deb=${deb:-http://deb.debian.org/debian/}
	sec=${sec:-http://deb.debian.org/debian-security/}
	opts="arch=${xapt_archs// /,} signed-by=/usr/share/keyrings/debian-archive-keyring.gpg"
	{
		echo "# Written by xcall scripts/vm/common.sh: the private package"
		echo "# lists of the guest tests and cross builds."
		for s in $xapt_suites; do
			echo "deb [$opts] $deb $s main"
		done
		echo "deb [$opts] $sec bookworm-security main"
	} >"$xapt_dir/sources.list.new"
	mv "$xapt_dir/sources.list.new" "$xapt_dir/sources.list"
	cat >"$xapt_conf" <<EOF
Dir::Etc::SourceList "$xapt_dir/sources.list";
Dir::Etc::SourceParts "$xapt_dir/empty";
Dir::Etc::Preferences "$xapt_dir/empty/none";
Dir::Etc::PreferencesParts "$xapt_dir/empty";
Dir::State "$xapt_dir/state";
Dir::State::Lists "$xapt_dir/state/lists";
Dir::State::status "$xapt_dir/state/status";
Dir::Cache "$xapt_dir/cache";
Dir::Cache::archives "$xapt_dir/cache/archives";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT::Architecture "amd64";
APT::Architectures { $(printf '"%s"; ' $xapt_archs)};
Acquire::Languages "none";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
Acquire::IndexTargets::deb::Contents-udeb::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled "false";
Acquire::IndexTargets::deb::CNF::DefaultEnabled "false";
EOF
	# As root apt would hand downloads to _apt, which cannot write here.
	[ "$(id -u)" != 0 ] || echo 'APT::Sandbox::User "root";' >>"$xapt_conf"
}

xapt_get() { apt-get -q -c "$xapt_conf" "$@"; }
xapt_cache() { apt-cache -c "$xapt_conf" "$@"; }

# Refresh the private package lists, serialised by a lock. An index that
# fails (one ppc64el security index has been seen to) does not stop the
# others; a run with no usable list at all fails.
xapt_update() {
	local out
	xapt_init || return 1
	xapt_say "update (private lists in $xapt_dir)"
	out=$(flock "$xapt_dir/.lock" apt-get -q -c "$xapt_conf" update 2>&1)
	if ! ls "$xapt_dir"/state/lists/*_Packages* >/dev/null 2>&1; then
		echo "$out" >&2
		echo "xapt: no package list could be downloaded" >&2
		return 1
	fi
	touch "$xapt_dir/.updated"
}

# Lists present, or fetched now.
xapt_ready() {
	xapt_init || return 1
	[ -e "$xapt_dir/.updated" ] || xapt_update
}

# A signature of the lists: resolutions cached against it stay valid
# until the next update.
xapt_sig() {
	(cd "$xapt_dir/state/lists" &&
	 ls -l --time-style=+%s -- *Packages* 2>/dev/null) | md5sum | cut -d' ' -f1
}

# Newest version of package $1 (arch-qualified) starting with prefix $2.
xapt_newest() {
	xapt_cache madison "$1" 2>/dev/null |
		awk -F'|' -v p="$2" '{ gsub(/ /, "", $2) }
			index($2, p) == 1 { print $2 }' |
		sort -u | sort -V -r | head -n1
}

# Field $3 of package $1 at version $2.
xapt_field() {
	xapt_cache show "$1=$2" 2>/dev/null |
		awk -v f="$3:" '$1 == f { sub(/^[^:]*: */, ""); print; exit }'
}

# Download the packages named (name:arch=version) into the current
# directory; prints apt's complaint on failure.
xapt_download() {
	local out
	out=$(xapt_get download "$@" 2>&1) && return 0
	echo "$out" >&2
	return 1
}

# Point $top/current at version key $key atomically, make the stable names
# resolve through it, and drop superseded versions (the lock is held).
switch_current() {
	local top=$1 key=$2 f
	shift 2
	ln -sfn "$key" "$top/current.new"
	mv -T "$top/current.new" "$top/current"
	for f in "$@"; do
		[ -L "$top/$f" ] || ln -sfn "current/$f" "$top/$f"
	done
	for f in "$top"/*/; do
		f=${f%/}
		[ "${f##*/}" = "$key" ] || [ -L "$f" ] || rm -rf "$f"
	done
}

# vm_failure_report NAME LOG BAD LINES: what a person needs of a failed
# guest: the last LINES of its own output (without its boot report and
# the dump of the kernel log), then the kernel's report from the first
# line of file BAD on.
vm_failure_report() {
	local n=$1 log=$2 bad=$3 lines=$4

	echo "---- $n: console without the kernel log ($log) ----"
	sed -e '/^XCALL-VM-FACTS-BEGIN$/,/^XCALL-VM-FACTS-END$/d' \
	    -e '/^XCALL-VM-DMESG-BEGIN$/,/^XCALL-VM-DMESG-END$/d' "$log" |
		grep -v '^\[ *[0-9]*\.[0-9]*\] ' | tail -n "$lines" || true
	if [ -s "$bad" ]; then
		echo "---- $n: kernel log from the first report ----"
		grep -m1 -F -A 60 -- "$(head -n1 "$bad")" "$log"
	fi
	echo "----"
}
