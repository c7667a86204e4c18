# SPDX-License-Identifier: GPL-2.0-only
# bash completion for xcall(1): commands, each command's options, the
# function names of `xcall run` (asked of `xcall list --json` at each
# completion, so a new function needs nothing here), --backend names, the
# online CPUs for --cpu (after a comma too) and --ref, the online NUMA
# nodes for --node, latency's --measure words, and file names for --socket
# and --svg. Plain bash and compgen: the bash-completion package's helpers
# are not needed. tests/cli/test_completion.sh drives it.
#
# Installed as $(datadir)/bash-completion/completions/xcall.

# The commands and options of each, as `xcall ... --help` lists them
# (tests/cli/test_completion.sh compares them), and those taking a value.
_xcall_commands='run list topology status clock latency'
_xcall_global_opts='--help --usage --version'
_xcall_opts_run='--all --cpu --node --backend --json --timeout --interval
	--repeat --timeline --help --usage --version'
_xcall_opts_list='--json --help --usage --version'
_xcall_opts_topology='--backend --json --timeout --help --usage --version'
_xcall_opts_status='--json --socket --help --usage --version'
_xcall_opts_clock='--all --cpu --node --ref --samples --backend --json
	--help --usage --version'
_xcall_opts_latency='--cpu --samples --duration --measure --backend --timeout
	--json --csv --svg --no-color --help --usage --version'
_xcall_arg_opts='--cpu --node --backend --timeout --interval --repeat --socket'
_xcall_arg_opts+=' --ref --samples --duration --measure --svg'
_xcall_arg_shorts='cnbtirsdm'
# The names lib/xcall.c:backend_names[] accepts (the test compares them).
_xcall_backends='auto threads kmod daemon'
# What `xcall latency --measure` takes (cli/latency.c).
_xcall_measures='call pingpong'

# Expand a CPU or node list, "0-3,8-11:2", into one number per line;
# what is not a list item is left out.
_xcall_expand_list()
{
	local item a b s c IFS=,

	for item in $1; do
		s=1
		[[ $item == *:* ]] && s=${item#*:} item=${item%%:*}
		a=${item%-*} b=${item#*-}
		[[ $a =~ ^[0-9]+$ && $b =~ ^[0-9]+$ && $s =~ ^[1-9][0-9]*$ ]] ||
			continue
		for ((c = 10#$a; c <= 10#$b; c += 10#$s)); do
			echo "$c"
		done
	done
}

# The online CPUs or nodes from sysfs file $1, "0" if it is missing (a
# kernel without NUMA has no node directory).
_xcall_online()
{
	local list=0

	[[ -r $1 ]] && read -r list <"$1"
	_xcall_expand_list "$list"
}

# Values of a CPU list: all, or the online CPUs; after a comma the online
# CPUs the list does not name yet, each after the list so far.
_xcall_cpus()
{
	local cur=$1 head c used online

	online=$(_xcall_online /sys/devices/system/cpu/online)
	if [[ $cur != *,* ]]; then
		compgen -W "all $online" -- "$cur"
		return
	fi
	head=${cur%,*},
	used=" $(_xcall_expand_list "${head%,}" | tr '\n' ' ')"
	for c in $online; do
		[[ $used == *" $c "* || $head$c != "$cur"* ]] || echo "$head$c"
	done
}

# Does word $1 (an option of `xcall $2`) take the next word as its value?
_xcall_takes_arg()
{
	local w=$1 j

	case $w in
	--*=*) return 1 ;;
	--*) [[ " $_xcall_arg_opts " == *" $w "* ]]; return ;;
	esac
	# -jc: the value is the next word; -c0: it is attached.
	for ((j = 1; j < ${#w}; j++)); do
		[[ $_xcall_arg_shorts == *"${w:j:1}"* ]] || continue
		((j == ${#w} - 1))
		return
	done
	return 1
}

# The long form of option $1 ("-c", "-jc", "--cpu").
_xcall_long()
{
	case $1 in
	--*) echo "${1%%=*}" ;;
	*)
		case ${1: -1} in
		c) echo --cpu ;; n) echo --node ;; b) echo --backend ;;
		t) echo --timeout ;; i) echo --interval ;; r) echo --repeat ;;
		s) echo --socket ;; d) echo --duration ;; m) echo --measure ;;
		esac
		;;
	esac
}

# The values of option $1 that start like $2.
_xcall_values()
{
	case $1 in
	--cpu) _xcall_cpus "$2" ;;
	--ref)
		compgen -W "$(_xcall_online /sys/devices/system/cpu/online)" \
			-- "$2"
		;;
	--node)
		compgen -W "$(_xcall_online /sys/devices/system/node/online)" \
			-- "$2"
		;;
	--backend) compgen -W "$_xcall_backends" -- "$2" ;;
	--measure) compgen -W "$_xcall_measures" -- "$2" ;;
	--socket | --svg)
		# A directory ends in '/', and gets no space after it.
		compgen -f -- "$2" | while IFS= read -r f; do
			[[ -d $f ]] && f+=/
			echo "$f"
		done
		;;
	esac	# numbers (--timeout, --repeat, --interval, --samples, ...): nothing
}

# The function names, from `xcall list --json` of the xcall being completed.
_xcall_functions()
{
	"$1" list --json 2>/dev/null |
		sed -n 's/^{"name":"\([^"]*\)".*/\1/p'
}

# Completions of the word $cur after the words "$@" ($1: xcall itself),
# whole words, one per line.
_xcall_words()
{
	local cur=$1 xc=$2 cmd fn dashdash opt i opts
	local -a w=("${@:3}")

	# The command: the first word that is not a (global) option.
	for ((i = 0; i < ${#w[@]}; i++)); do
		[[ ${w[i]} == -* ]] || { cmd=${w[i]}; break; }
	done
	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			compgen -W "$_xcall_global_opts" -- "$cur"
		else
			compgen -W "$_xcall_commands" -- "$cur"
		fi
		return
	fi
	[[ " $_xcall_commands " == *" $cmd "* ]] || return
	# Options may come after FUNCTION; '--' ends them.
	for ((i++; i < ${#w[@]}; i++)); do
		if [[ -n $dashdash || ${w[i]} != -* ]]; then
			fn=${fn:-${w[i]}}
		elif [[ ${w[i]} == -- ]]; then
			dashdash=1
		elif _xcall_takes_arg "${w[i]}"; then
			((i + 1 < ${#w[@]})) || opt=$(_xcall_long "${w[i]}")
			((i++))
		fi
	done
	if [[ -n $opt ]]; then
		_xcall_values "$opt" "$cur"
	elif [[ -z $dashdash && $cur == --*=* ]]; then
		_xcall_values "${cur%%=*}" "${cur#*=}" | sed "s|^|${cur%%=*}=|"
	elif [[ -z $dashdash && $cur == -* ]]; then
		opts=_xcall_opts_$cmd
		compgen -W "${!opts}" -- "$cur"
	elif [[ $cmd == run ]]; then
		# FUNCTION, also after '--'; its arguments are numbers.
		[[ -z $fn ]] && compgen -W "$(_xcall_functions "$xc")" -- "$cur"
	elif [[ -z $dashdash ]]; then
		opts=_xcall_opts_$cmd	# the other commands take no words
		compgen -W "${!opts}" -- "$cur"
	fi
}

# complete -F: the words are split again from the line up to the cursor, on
# blanks alone, so "--cpu=0," is one word whatever COMP_WORDBREAKS splits
# at; each answer is then cut to the part bash replaces, its current word.
_xcall()
{
	local line=${COMP_LINE:0:COMP_POINT} cur='' bcur pre xc i
	local -a w

	read -ra w <<<"$line"
	if [[ ${#w[@]} -gt 1 && $line != *[[:blank:]] ]]; then
		cur=${w[-1]}
		unset 'w[-1]'
	fi
	xc=${w[0]:-xcall}
	[[ $xc == \~/* ]] && xc=$HOME/${xc#\~/}
	bcur=${COMP_WORDS[COMP_CWORD]}
	pre=''
	[[ $cur == *"$bcur" ]] && pre=${cur%"$bcur"}
	COMPREPLY=()
	while IFS= read -r i; do
		COMPREPLY+=("${i#"$pre"}")
	done < <(_xcall_words "$cur" "$xc" "${w[@]:1}")
	if [[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == */ ]]; then
		compopt -o nospace 2>/dev/null
	fi
	return 0
}

complete -F _xcall xcall
