# shellcheck shell=bash disable=SC2034  # constants used by authdns.sh and the scenarios
# DNSSEC for the authoritative DNS scenarios (sourced by lib.sh after authdns.sh):
#
#   lab_authdns_up --dnssec valid|expired [--dnssec-alg ALG] [--nsec3] [--dnssec-parent current|stale|none] ...
#
# signs lab-example.com with a real signer (ldns-signzone from ldnsutils) before NSD loads it: a
# key-signing key (flags 257) and a zone-signing key (256) made with ldns-keygen (default
# ECDSAP256SHA256; --dnssec-alg takes any name ldns-keygen knows, e.g. RSASHA256, ED25519), NSEC
# (or NSEC3 with --nsec3). "valid" signs from an hour ago for 30 days; "expired" signed 30 days
# ago with signatures that expired 3 days ago (beyond unbound's allowed clock skew of at most a
# day), as a zone whose re-signing stopped. Both unbound resolvers (the client's and, with
# --ca-stub, the CA's) validate: the KSK is their trust anchor (the lab has no signed root or
# com), and they send Extended DNS Errors (RFC 8914) with a SERVFAIL. lab_authdns_zone re-signs
# whatever it writes the same way.
#
# --dnssec-parent adds a signed parent: the zone "com" with keys of its own (signed valid), served
# by the same two NSD servers next to lab-example.com and delegating it with a DS. "current": the
# DS of the zone's KSK, a complete chain. "stale": the DS of a KSK the zone no longer publishes,
# as a DS left at the registrar after a key rollover or a move to another DNS host. "none": no DS,
# an insecure delegation (signed denial of the DS, NSEC or NSEC3). The resolvers
# (a stub-zone for com too) and the doctor then trust com's KSK and follow the DS down.
#
# For scenarios: DNSSEC_ANCHOR (the trust anchor, one DNSKEY record: the zone's KSK, or com's
# with --dnssec-parent; the file the resolvers trust and the doctor gets with --dnssec-anchor),
# DNSSEC_KSK_TAG, DNSSEC_ZSK_TAG, DNSSEC_EXPIRATION (the signatures' expiration, YYYYmmddHHMMSS
# UTC), DNSSEC_ALG; with --dnssec-parent DNSSEC_PARENT_ZONE (com), DNSSEC_PARENT_KSK_TAG and
# DNSSEC_DS_TAG (the key tag the parent's DS names).

DNSSEC_MODE=""
DNSSEC_ALG=ECDSAP256SHA256
DNSSEC_NSEC3=no
DNSSEC_PARENT=""
DNSSEC_PARENT_ZONE=com

# Makes the zone's KSK and ZSK in $LAB_TMP/dnssec and the anchor file. Called by lab_authdns_up.
lab_dnssec_keys() { # MODE ALG NSEC3(yes|no) PARENT(""|current|stale)
    DNSSEC_MODE=$1 DNSSEC_ALG=$2 DNSSEC_NSEC3=$3 DNSSEC_PARENT=$4
    case $DNSSEC_MODE in
    valid | expired) ;;
    *) lab_die "lab_authdns_up --dnssec: valid or expired, not $DNSSEC_MODE" ;;
    esac
    case $DNSSEC_PARENT in
    "" | current | stale | none) ;;
    *) lab_die "lab_authdns_up --dnssec-parent: current, stale or none, not $DNSSEC_PARENT" ;;
    esac
    local t
    for t in ldns-keygen ldns-signzone; do
        command -v "$t" >/dev/null || lab_die "lab_authdns_up --dnssec: $t missing; install: apt-get install -y $LAB_PACKAGES"
    done
    local d=$LAB_TMP/dnssec
    rm -rf "$d"
    mkdir -p "$d"
    # ldns-keygen writes K<zone>.+<alg>+<tag>.{key,private,ds} into the current directory and
    # prints the base name.
    DNSSEC_KSK=$d/$(cd "$d" && ldns-keygen -a "$DNSSEC_ALG" -k "$AUTHDNS_ZONE") ||
        lab_die "ldns-keygen could not make a $DNSSEC_ALG KSK"
    DNSSEC_ZSK=$d/$(cd "$d" && ldns-keygen -a "$DNSSEC_ALG" "$AUTHDNS_ZONE") ||
        lab_die "ldns-keygen could not make a $DNSSEC_ALG ZSK"
    [[ -s $DNSSEC_KSK.key && -s $DNSSEC_ZSK.key ]] || lab_die "ldns-keygen made no keys in $d"
    DNSSEC_KSK_TAG=$((10#${DNSSEC_KSK##*+}))
    DNSSEC_ZSK_TAG=$((10#${DNSSEC_ZSK##*+}))
    # The anchor: the KSK's DNSKEY record as ldns-keygen wrote it (zone-file format, with a
    # comment naming the tag), as in unbound's root.key.
    DNSSEC_ANCHOR=$d/anchor.key
    cp "$DNSSEC_KSK.key" "$DNSSEC_ANCHOR"
    if [[ -n $DNSSEC_PARENT ]]; then
        mkdir -p "$d/parent" "$d/old"
        DNSSEC_PARENT_KSK=$d/parent/$(cd "$d/parent" && ldns-keygen -a "$DNSSEC_ALG" -k "$DNSSEC_PARENT_ZONE") &&
            DNSSEC_PARENT_ZSK=$d/parent/$(cd "$d/parent" && ldns-keygen -a "$DNSSEC_ALG" "$DNSSEC_PARENT_ZONE") ||
            lab_die "ldns-keygen could not make keys for $DNSSEC_PARENT_ZONE"
        DNSSEC_PARENT_KSK_TAG=$((10#${DNSSEC_PARENT_KSK##*+}))
        cp "$DNSSEC_PARENT_KSK.key" "$DNSSEC_ANCHOR"
        # The DS the parent publishes: of the KSK in use, or of one the zone no longer has.
        DNSSEC_DS=$DNSSEC_KSK.ds
        if [[ $DNSSEC_PARENT == stale ]]; then
            DNSSEC_DS=$d/old/$(cd "$d/old" && ldns-keygen -a "$DNSSEC_ALG" -k "$AUTHDNS_ZONE").ds ||
                lab_die "ldns-keygen could not make the old KSK"
        fi
        [[ -s $DNSSEC_DS ]] || lab_die "ldns-keygen wrote no DS file $DNSSEC_DS"
        DNSSEC_DS_TAG=$(awk '{ for (i = 1; i < NF; i++) if ($i == "DS") { print $(i + 1); exit } }' "$DNSSEC_DS")
        if [[ $DNSSEC_PARENT == none ]]; then
            DNSSEC_DS="" DNSSEC_DS_TAG=""
        fi
        chmod 0755 "$d/parent" "$d/old"
        chmod 0644 "$d"/parent/* "$d"/old/* 2>/dev/null || true
    fi
    chmod 0755 "$d"
    chmod 0644 "$d"/anchor.key "$d"/K*
}

# Signs zone file FILE in place (ldns-signzone with both keys) with the times of DNSSEC_MODE
# (ORIGIN and its keys: the parent's with --dnssec-parent, always valid).
lab_dnssec_sign() { # FILE [ORIGIN KSK ZSK]
    local f=$1 origin=${2:-$AUTHDNS_ZONE} ksk=${3:-$DNSSEC_KSK} zsk=${4:-$DNSSEC_ZSK} inception expiration
    if [[ $DNSSEC_MODE == expired && $origin == "$AUTHDNS_ZONE" ]]; then
        inception=$(date -u -d '-30 days' +%Y%m%d%H%M%S)
        expiration=$(date -u -d '-3 days' +%Y%m%d%H%M%S)
    else
        inception=$(date -u -d '-1 hour' +%Y%m%d%H%M%S)
        expiration=$(date -u -d '+30 days' +%Y%m%d%H%M%S)
    fi
    DNSSEC_EXPIRATION=$expiration
    local nsec3=()
    # NSEC3 as RFC 9276 recommends: no extra iterations, no salt (ldns-signzone's default).
    [[ $DNSSEC_NSEC3 == yes ]] && nsec3=(-n -t 0)
    ldns-signzone "${nsec3[@]}" -i "$inception" -e "$expiration" -o "$origin" -f "$f.signed" \
        "$f" "$ksk" "$zsk" || lab_die "ldns-signzone could not sign $f"
    mv "$f.signed" "$f"
}

# With --dnssec-parent: writes the signed parent zone into a server's directory DIR and prints
# its zone: clause for nsd.conf. The parent's own servers are the same two NSD (tld1/tld2.com).
lab_dnssec_nsd_zone() { # DIR
    [[ -n $DNSSEC_PARENT ]] || return 0
    local f=$1/$DNSSEC_PARENT_ZONE.zone
    {
        # shellcheck disable=SC2016  # zone-file directives, not shell variables
        printf '$ORIGIN %s.\n$TTL 300\n' "$DNSSEC_PARENT_ZONE"
        printf '@ IN SOA tld1.%s. hostmaster.%s. ( 1 3600 900 1209600 300 )\n' \
            "$DNSSEC_PARENT_ZONE" "$DNSSEC_PARENT_ZONE"
        printf '@ IN NS tld1\n@ IN NS tld2\n'
        printf 'tld1 IN A %s\ntld1 IN AAAA %s\ntld2 IN A %s\ntld2 IN AAAA %s\n' \
            "$NS1_4" "$NS1_6" "$NS2_4" "$NS2_6"
        # The delegation, its glue and the DS.
        printf '%s. IN NS ns1.%s.\n%s. IN NS ns2.%s.\n' "$AUTHDNS_ZONE" "$AUTHDNS_ZONE" "$AUTHDNS_ZONE" "$AUTHDNS_ZONE"
        printf 'ns1.%s. IN A %s\nns1.%s. IN AAAA %s\n' "$AUTHDNS_ZONE" "$NS1_4" "$AUTHDNS_ZONE" "$NS1_6"
        printf 'ns2.%s. IN A %s\nns2.%s. IN AAAA %s\n' "$AUTHDNS_ZONE" "$NS2_4" "$AUTHDNS_ZONE" "$NS2_6"
        [[ -z $DNSSEC_DS ]] || grep -v '^;' "$DNSSEC_DS"
    } >"$f"
    lab_dnssec_sign "$f" "$DNSSEC_PARENT_ZONE" "$DNSSEC_PARENT_KSK" "$DNSSEC_PARENT_ZSK"
    printf 'zone:\n    name: "%s"\n    zonefile: "%s.zone"\n' "$DNSSEC_PARENT_ZONE" "$DNSSEC_PARENT_ZONE"
}

# With --dnssec-parent: the stub-zone clause that sends the parent's queries (the DS among them)
# to the same servers STUB-LINES names for the zone.
lab_dnssec_unbound_stub() { # STUB-LINES
    [[ -n $DNSSEC_PARENT ]] || return 0
    printf 'stub-zone:\n    name: "%s"\n%s\n' "$DNSSEC_PARENT_ZONE" "$1"
}

# The lines of an unbound server: clause that make it validate lab-example.com against the KSK.
lab_dnssec_unbound_conf() {
    if [[ -z $DNSSEC_MODE ]]; then
        printf '    # No DNSSEC validation: the zone is not signed (and the lab has no signed root).\n'
        printf '    module-config: "iterator"\n'
        return
    fi
    cat <<EOF
    # DNSSEC: validate lab-example.com against its KSK, or com's with a signed parent (there
    # is no signed root in the lab); other names have no anchor and stay insecure. Reasons go to
    # the log and, as Extended DNS Errors, to the client.
    module-config: "validator iterator"
    trust-anchor-file: "$DNSSEC_ANCHOR"
    ede: yes
    val-log-level: 2
EOF
}
