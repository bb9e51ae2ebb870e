# shellcheck shell=bash disable=SC2034  # constants used by authdns.sh and the scenarios
# DNSSEC for the authoritative DNS scenarios (sourced by lib.sh after authdns.sh):
#
#   lab_authdns_up --dnssec valid|expired [--dnssec-alg ALG] [--nsec3] ...
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
# For scenarios: DNSSEC_ANCHOR (the KSK's DNSKEY record, one line, the file the resolvers trust
# and the doctor gets with --dnssec-anchor), DNSSEC_KSK_TAG, DNSSEC_ZSK_TAG, DNSSEC_EXPIRATION
# (the signatures' expiration, YYYYmmddHHMMSS UTC), DNSSEC_ALG.

DNSSEC_MODE=""
DNSSEC_ALG=ECDSAP256SHA256
DNSSEC_NSEC3=no

# Makes the zone's KSK and ZSK in $LAB_TMP/dnssec and the anchor file. Called by lab_authdns_up.
lab_dnssec_keys() { # MODE ALG NSEC3(yes|no)
    DNSSEC_MODE=$1 DNSSEC_ALG=$2 DNSSEC_NSEC3=$3
    case $DNSSEC_MODE in
    valid | expired) ;;
    *) lab_die "lab_authdns_up --dnssec: valid or expired, not $DNSSEC_MODE" ;;
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
    chmod 0755 "$d"
    chmod 0644 "$d"/*
}

# Signs zone file FILE in place (ldns-signzone with both keys) with the times of DNSSEC_MODE.
lab_dnssec_sign() { # FILE
    local f=$1 inception expiration
    if [[ $DNSSEC_MODE == expired ]]; then
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
    ldns-signzone "${nsec3[@]}" -i "$inception" -e "$expiration" -o "$AUTHDNS_ZONE" -f "$f.signed" \
        "$f" "$DNSSEC_KSK" "$DNSSEC_ZSK" || lab_die "ldns-signzone could not sign $f"
    mv "$f.signed" "$f"
}

# The lines of an unbound server: clause that make it validate lab-example.com against the KSK.
lab_dnssec_unbound_conf() {
    if [[ -z $DNSSEC_MODE ]]; then
        printf '    # No DNSSEC validation: the zone is not signed (and the lab has no signed root).\n'
        printf '    module-config: "iterator"\n'
        return
    fi
    cat <<EOF
    # DNSSEC: validate lab-example.com against its KSK (there is no signed root or com in the
    # lab); other names have no anchor and stay insecure. Reasons go to the log and, as Extended
    # DNS Errors, to the client.
    module-config: "validator iterator"
    trust-anchor-file: "$DNSSEC_ANCHOR"
    ede: yes
    val-log-level: 2
EOF
}
