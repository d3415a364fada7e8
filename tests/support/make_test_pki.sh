#!/usr/bin/env bash
# make_test_pki.sh DIR: a small X.509 PKI for the signature tests, made with openssl at test time.
#
#   root.pem, root.key                  trusted root CA (2020..2045)
#   int.pem, int.key                    intermediate CA under root (2020..2045)
#   leaf.pem, leaf.key                  ECDSA P-384 signing certificate under int: KeyUsage
#                                       digitalSignature, EKU codeSigning, valid from an hour ago
#   leaf256.pem, leaf256.key            the same with P-256
#   leaf_expired.pem, leaf_expired.key  under int, valid 2024-01-01..2024-01-02 only (issued
#                                       while int was valid; expired now)
#   int_old.pem, int_old.key            intermediate under root, valid 2020..2021 only
#   leaf_late.pem, leaf_late.key        under int_old, issued 2022 (after int_old expired)
#   nosign.pem, nosign.key              under int, KeyUsage keyCertSign only, no EKU
#   other_root.pem, other_leaf.pem/.key an unrelated root and a signing certificate under it
#   future.pem, future.key              under int, valid from 2040
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
export OPENSSL_CONF=/dev/null

cat > ca.cnf <<'CNF'
[ ca ]
default_ca = testca
[ testca ]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
organizationName = optional
[ v3_ca ]
basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_sign ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
extendedKeyUsage = codeSigning
subjectAltName = email:release@acme.example
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[ v3_nosign ]
basicConstraints = critical, CA:false
keyUsage = critical, keyCertSign
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = placeholder
CNF
: > index.txt
echo 1000 > serial

ec_key() { openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" -out "$1" 2>/dev/null; }
csr() { openssl req -new -config ca.cnf -key "$1" -subj "$2" -out "$3"; }
# issue CSR CA_CERT CA_KEY OUT EXT START END
issue() {
  openssl ca -batch -config ca.cnf -notext -in "$1" -cert "$2" -keyfile "$3" -out "$4" \
    -extensions "$5" -extfile ca.cnf -startdate "$6" -enddate "$7" 2>/dev/null
}
selfsigned() {  # KEY SUBJECT OUT START END
  csr "$1" "$2" "$3.csr"
  openssl ca -batch -config ca.cnf -notext -selfsign -in "$3.csr" -keyfile "$1" -out "$3" \
    -extensions v3_ca -extfile ca.cnf -startdate "$4" -enddate "$5" 2>/dev/null
}
hour_ago=$(date -u -d '1 hour ago' +%Y%m%d%H%M%SZ)

ec_key root.key P-384
selfsigned root.key "/CN=bundlegate test root/O=Acme" root.pem 20200101000000Z 20450101000000Z
ec_key int.key P-384
csr int.key "/CN=bundlegate test intermediate/O=Acme" int.csr
issue int.csr root.pem root.key int.pem v3_ca 20200101000000Z 20450101000000Z

for name in leaf:P-384 leaf256:P-256; do
  n=${name%%:*}; curve=${name#*:}
  ec_key "$n.key" "$curve"
  csr "$n.key" "/CN=release-signer-$n/O=Acme" "$n.csr"
  issue "$n.csr" int.pem int.key "$n.pem" v3_sign "$hour_ago" 20450101000000Z
done

ec_key leaf_expired.key P-384
csr leaf_expired.key "/CN=expired-signer/O=Acme" leaf_expired.csr
issue leaf_expired.csr int.pem int.key leaf_expired.pem v3_sign 20240101000000Z 20240102000000Z

ec_key int_old.key P-384
csr int_old.key "/CN=old intermediate/O=Acme" int_old.csr
issue int_old.csr root.pem root.key int_old.pem v3_ca 20200101000000Z 20210101000000Z
ec_key leaf_late.key P-384
csr leaf_late.key "/CN=late-signer/O=Acme" leaf_late.csr
issue leaf_late.csr int_old.pem int_old.key leaf_late.pem v3_sign 20220101000000Z 20450101000000Z

ec_key nosign.key P-384
csr nosign.key "/CN=not-a-signer/O=Acme" nosign.csr
issue nosign.csr int.pem int.key nosign.pem v3_nosign "$hour_ago" 20450101000000Z

ec_key future.key P-384
csr future.key "/CN=future-signer/O=Acme" future.csr
issue future.csr int.pem int.key future.pem v3_sign 20400101000000Z 20450101000000Z

ec_key other_root.key P-384
selfsigned other_root.key "/CN=someone else's root" other_root.pem 20200101000000Z 20450101000000Z
ec_key other_leaf.key P-384
csr other_leaf.key "/CN=impostor/O=Elsewhere" other_leaf.csr
issue other_leaf.csr other_root.pem other_root.key other_leaf.pem v3_sign "$hour_ago" 20450101000000Z

for k in leaf leaf256; do openssl pkey -in "$k.key" -pubout -out "$k.pub.pem"; done
rm -f ./*.csr
