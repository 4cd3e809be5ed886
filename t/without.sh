#!/bin/sh
# t/without.sh: each ./configure --without-http_<name>_module links and runs.
#
# make check-without runs it with the configured build's variables. The
# objects are compiled once, by make; for each optional module this
# writes the module list without it (auto/modules_c), compiles that one
# file and links objs/without/<name>/kiln from the other objects: the
# sources of the module (and of its part-of= modules), except those a
# module still built names too. An engine or feature object that uses a
# symbol of the module left out then fails the link, and a module whose
# absence another one's init trips over fails `kiln -t` on a small
# configuration. Sources tested with #ifdef would escape this, which is
# why no source asks whether a module is built (docs/modules.md).

set -u

: "${CC:?}" "${KL_BUILDDIR:?}" "${KL_MAIN_OBJ:?}" "${KL_LIB_OBJS:?}"
: "${KL_MODULES:?}" "${KL_INCS_CORE:?}"
CFLAGS=${CFLAGS-} LDFLAGS=${LDFLAGS-} KL_LIBS=${KL_LIBS-}

list=$KL_BUILDDIR/kl_modules.list
. auto/modules_c

if [ ! -f "$list" ]; then
    echo "without: no $list: run ./configure" >&2
    exit 1
fi

shorts=`awk '!/^#/ && $1 !~ /^(engine|-)$|,/ && !seen[$1]++ \
             { print $1 }' "$list"`

fail=0
n=0

for short in $shorts
do
    n=$((n + 1))
    dir=$KL_BUILDDIR/without/$short
    mkdir -p "$dir/logs" || exit 1

    # the module symbols still built, in their order
    gone=`awk -v s="$short" '$1 == s { print $2 }' "$list"`
    syms=
    for sym in $KL_MODULES
    do
        case " `echo $gone` " in
            *" $sym "*) ;;
            *) syms="$syms $sym" ;;
        esac
    done

    # the sources only the module left out names
    keep=`awk -v s="$short" '!/^#/ && $1 != s \
              { for (i = 3; i <= NF; i++) print $i }' "$list"`
    drop=
    for src in `awk -v s="$short" '$1 == s \
                    { for (i = 3; i <= NF; i++) print $i }' "$list"`
    do
        case " `echo $keep` " in
            *" $src "*) ;;
            *) drop="$drop $KL_BUILDDIR/${src%.c}.o" ;;
        esac
    done

    objs=
    for obj in $KL_LIB_OBJS
    do
        case " $drop $KL_BUILDDIR/kl_modules.o " in
            *" $obj "*) ;;
            *) objs="$objs $obj" ;;
        esac
    done

    kl_write_modules_c "$dir/kl_modules.c" $syms

    if ! $CC -c $CFLAGS $KL_INCS_CORE -o "$dir/kl_modules.o" \
             "$dir/kl_modules.c" > "$dir/build.log" 2>&1 \
       || ! $CC $LDFLAGS -o "$dir/kiln" $KL_MAIN_OBJ $objs \
             "$dir/kl_modules.o" $KL_LIBS >> "$dir/build.log" 2>&1
    then
        sed -e 's/^/    /' "$dir/build.log" | head -n 20
        echo "without: --without-http_${short}_module does not link"
        fail=1
        continue
    fi

    prefix=`cd "$dir" && pwd`
    cat > "$dir/kiln.conf" << END
error_log $prefix/logs/error.log;
pid $prefix/logs/kiln.pid;
events { }
http {
    server {
        listen 127.0.0.1:1;
        location / { }
    }
}
END

    if ! "$dir/kiln" -p "$prefix/" -c "$prefix/kiln.conf" -t \
             > "$dir/test.log" 2>&1
    then
        sed -e 's/^/    /' "$dir/test.log"
        echo "without: --without-http_${short}_module: kiln -t fails"
        fail=1
        continue
    fi
done

if [ $fail = 0 ]; then
    echo "without: $n builds, each without one optional module, link and" \
         "pass kiln -t"
fi

exit $fail
