# help2roff.awk — turns one `canhgac ... --help` text into a man(7) page, so
# that the manual pages say what --help says (tools/man/mkman.sh runs it on
# each command's help at build time).
#
#   LC_ALL=C awk -f help2roff.awk -v name=canhgac-run -v whatis='...' \
#       -v source='canhgac 1.0' -v seealso='canhgac(1) canhgac-query(1)' < help
#
# What it reads (the layout every canhgac help text has):
#   usage: LINE            SYNOPSIS; more usage lines follow indented
#   paragraphs             DESCRIPTION (blocks are separated by blank lines)
#   HEADER:                a line of its own ending in ':' starts a part (and a block):
#                          options -> OPTIONS, examples -> EXAMPLES,
#                          commands -> COMMANDS, anything else a subsection
#                          (its parenthesis, if any, the subsection's first
#                          paragraph)
#   exit: TEXT             EXIT STATUS ("exit codes:" too); environment: TEXT
#                          ENVIRONMENT
#   -x, --long ARG  TEXT   an option: a .TP entry, the deeper-indented lines
#                          under it joined to its text
#   NAME   TEXT            a block of such lines with one text column and
#                          continuations at that column: a .TP list
#   anything else          indented: kept as it is (.nf)
# Parts come out in the order of man-pages(7), whatever their order in the
# help. Bytes beyond ASCII are read as UTF-8 and written as \[uXXXX], so the
# page is ASCII and needs no preconv (hence LC_ALL=C: awk sees bytes).

function ltrim(s) { sub(/^ +/, "", s); return s }
function indent(s) { match(s, /^ */); return RLENGTH }

# roff-escape plain text; bt: 1 turns `x` into bold x (running text)
function esc(s, bt,    out, i, n, c, o, cp, k, open) {
    out = ""; n = length(s); open = 0
    for (i = 1; i <= n; i++) {
        c = substr(s, i, 1); o = ORD[c]
        if (c == "\\") out = out "\\e"
        else if (c == "-") out = out "\\-"
        else if (c == "'") out = out "\\(aq"
        else if (c == "`") {
            if (bt && (open || index(substr(s, i + 1), "`"))) {
                out = out (open ? "\\fR" : "\\fB"); open = !open
            } else out = out "\\(ga"
        } else if (o >= 128) {
            # UTF-8: the lead byte says how many follow
            if (o >= 240) { k = 3; cp = o - 240 }
            else if (o >= 224) { k = 2; cp = o - 224 }
            else if (o >= 192) { k = 1; cp = o - 192 }
            else { k = 0; cp = 65533 }
            for (; k > 0 && i < n; k--) { i++; cp = cp * 64 + ORD[substr(s, i, 1)] - 128 }
            out = out sprintf("\\[u%04X]", cp)
        } else out = out c
    }
    if (open) out = out "\\fR"
    return out
}

# a line of running text: a leading '.' would be a request
function textline(s) { return (s ~ /^\./ ? "\\&" : "") s }

function emit(s) { body[sect] = body[sect] s "\n" }

function section(t) {
    sect = t
    if (!(t in seen)) { seen[t] = 1; order[++norder] = t }
}

# the words up to the first that is not a command word in bold
function synopsis(s,    w, n, i, out, cmd) {
    n = split(s, w, / +/); out = ""; cmd = 1
    for (i = 1; i <= n; i++) {
        if (cmd && w[i] !~ /^[a-z][a-z0-9-]*$/) cmd = 0
        out = out (i > 1 ? " " : "") (cmd ? "\\fB" esc(w[i], 0) "\\fR" : esc(w[i], 0))
    }
    return out
}

# is line l an option line: '-' within the first 8 columns
function isopt(l) {
    return indent(l) <= 8 && ltrim(l) ~ /^(-[A-Za-z0-9?]|--[A-Za-z0-9])/
}

# a heading of its own: "options:", "enrichment (...):"
function header(t,    key, paren, title) {
    paren = ""
    if (match(t, / \(/)) { paren = substr(t, RSTART + 1); t = substr(t, 1, RSTART - 1) }
    key = tolower(t)
    if (key ~ /^exit( codes| status)?$/) section("EXIT STATUS")
    else if (key ~ /^examples?$/) section("EXAMPLES")
    else if (key == "environment") section("ENVIRONMENT")
    else if (key == "options") section("OPTIONS")
    else if (key == "commands") section("COMMANDS")
    else {
        title = toupper(substr(t, 1, 1)) substr(t, 2)
        emit(".SS\n" textline(esc(title, 1)))
    }
    if (paren != "") emit(".PP\n" textline(esc(paren, 1)))
}

# lines a..b as they are
function verbatim(a, b,    i, m, k) {
    m = 1000
    for (i = a; i <= b; i++) if ((k = indent(L[i])) < m) m = k
    emit(".PP\n.RS 4\n.nf")
    for (i = a; i <= b; i++) emit(textline(esc(substr(L[i], m + 1), 0)))
    emit(".fi\n.RE")
}

function paragraph(a, b,    i, t) {
    t = ""
    for (i = a; i <= b; i++) t = t (t == "" ? "" : " ") ltrim(L[i])
    emit(".PP\n" textline(esc(t, 1)))
}

# the text of an entry: joined, or kept line by line when it has columns
function entrybody(first, a, b, col,    i, cols, t) {
    cols = first ~ /[^ ]  +[^ ]/
    for (i = a; i <= b; i++) if (substr(L[i], col + 1) ~ /[^ ]  +[^ ]/) cols = 1
    if (cols) {
        emit(".nf\n" textline(esc(first, 0)))
        for (i = a; i <= b; i++) emit(textline(esc(substr(L[i], col + 1), 0)))
        emit(".fi")
    } else {
        t = first
        for (i = a; i <= b; i++) t = t " " ltrim(L[i])
        emit(textline(esc(t, 1)))
    }
}

# an option line: "-x, --long ARG  text" (the text may follow ARG after one
# space when ARG is in capitals, "--stream-depth KIB bytes of ...")
function option(l,    s, tagp, text, w, n, i, tag, arg) {
    s = ltrim(l)
    if (match(s, /  +/)) { tagp = substr(s, 1, RSTART - 1); text = substr(s, RSTART + RLENGTH) }
    else { tagp = s; text = "" }
    n = split(tagp, w, / /); tag = ""
    for (i = 1; i <= n && w[i] ~ /^-/; i++) {
        sub(/,$/, "", w[i])
        tag = tag (tag == "" ? "" : ", ") "\\fB" esc(w[i], 0) "\\fR"
    }
    arg = ""
    if (i == n || (i < n && (w[i] ~ /^[A-Z[<]/ || w[i] ~ /\|/))) arg = w[i++]
    if (arg != "") tag = tag " \\fI" esc(arg, 0) "\\fR"
    for (; n >= i; n--) text = w[n] (text == "" ? "" : " ") text
    OTAG = tag; OTEXT = text
}

# a block of options, with plain lines between them
function options(a, b,    i, j, k) {
    for (i = a; i <= b; ) {
        if (isopt(L[i])) {
            option(L[i])
            for (j = i + 1; j <= b && !isopt(L[j]) && indent(L[j]) >= 10; j++) ;
            emit(".TP\n" textline(OTAG))
            entrybody(OTEXT, i + 1, j - 1, indent(L[i + 1]))
            i = j
        } else {
            for (j = i + 1; j <= b && !isopt(L[j]); j++) ;
            paragraph(i, j - 1)
            i = j
        }
    }
}

# a list "NAME   text": every line an entry or a continuation at its text
# column, one text column, two entries at least; sets TAG[], TEXT[], COL
function deflist(a, b,    i, s, ind, col, ne, tg, junk) {
    COL = -1; ne = 0
    for (i = a; i <= b; i++) {
        ind = indent(L[i]); s = substr(L[i], ind + 1)
        if (ne > 0 && ind >= COL) { CONT[i] = 1; continue }
        if (ind > 4 || !match(s, /  +/)) return 0
        tg = substr(s, 1, RSTART - 1)
        if (tg ~ /^-/ || split(tg, junk, / /) > 2) return 0
        col = ind + RSTART - 1 + RLENGTH
        if (COL >= 0 && col != COL) return 0
        COL = col; ne++; CONT[i] = 0
        TAG[i] = tg; TEXT[i] = substr(s, RSTART + RLENGTH)
    }
    return ne >= 2
}

function deflistout(a, b,    i, j) {
    for (i = a; i <= b; i = j) {
        for (j = i + 1; j <= b && CONT[j]; j++) ;
        emit(".TP\n\\fB" esc(TAG[i], 0) "\\fR")
        entrybody(TEXT[i], i + 1, j - 1, COL)
    }
}

function block(a, b,    i, hasopt, col0, h, r) {
    h = 0
    if (L[a] ~ /^[^ ].*:$/) { header(substr(L[a], 1, length(L[a]) - 1)); a++; h = 1 }
    else if (match(L[a], /^[a-z]+( [a-z]+)*: /)) {
        r = RLENGTH; header(substr(L[a], 1, r - 2)); L[a] = substr(L[a], r + 1); h = 1
        paragraph(a, b); return
    }
    if (a > b) return
    if (sect == "EXAMPLES") { verbatim(a, b); return }
    if (sect == "EXIT STATUS" || sect == "ENVIRONMENT") { paragraph(a, b); return }
    hasopt = 0; col0 = 1
    for (i = a; i <= b; i++) { if (isopt(L[i])) hasopt = 1; if (L[i] ~ /^ /) col0 = 0 }
    if (hasopt) {
        if (sect != "OPTIONS" && !h) section("OPTIONS")
        options(a, b)
    } else if (deflist(a, b)) deflistout(a, b)
    else if (col0) paragraph(a, b)
    else verbatim(a, b)
}

BEGIN {
    for (i = 1; i < 256; i++) ORD[sprintf("%c", i)] = i
    if (name == "") name = "canhgac"
    sub(/^ +/, "", seealso); sub(/ +$/, "", seealso)
}

{ sub(/\r$/, ""); sub(/ +$/, ""); L[++n] = $0 }

END {
    # the usage lines
    i = 1
    while (i <= n && L[i] == "") i++
    nsyn = 0
    if (i <= n && tolower(L[i]) ~ /^usage: /) {
        SYN[++nsyn] = substr(L[i], 8); i++
        while (i <= n && L[i] ~ /^ +[a-z]/ && ltrim(L[i]) ~ /^[a-z][a-z0-9-]* /) SYN[++nsyn] = ltrim(L[i++])
    }
    section("DESCRIPTION")
    while (i <= n) {
        while (i <= n && L[i] == "") i++
        if (i > n) break
        for (j = i; j + 1 <= n && L[j + 1] != "" && L[j + 1] !~ /^[^ ].*:$/; j++) ;
        block(i, j)
        i = j + 1
    }

    up = toupper(name)
    print ".\\\" " name "(1) \\(em made from `" (name == "canhgac" ? "canhgac" : "canhgac " substr(name, 9)) " --help` by tools/man/help2roff.awk; do not edit."
    print ".TH \"" esc(up, 0) "\" 1 \"\" \"" esc(source, 0) "\" \"canhgac manual\""
    print ".nh\n.ad l"
    print ".SH NAME"
    print esc(name, 0) " \\- " esc(whatis, 0)
    if (nsyn) {
        print ".SH SYNOPSIS"
        for (k = 1; k <= nsyn; k++) { if (k > 1) print ".br"; print textline(synopsis(SYN[k])) }
    }
    split("DESCRIPTION COMMANDS OPTIONS", first, " ")
    split("EXIT STATUS|ENVIRONMENT|EXAMPLES", last, "|")
    for (k = 1; k <= 3; k++) if (body[first[k]] != "") { print ".SH " first[k]; printf "%s", body[first[k]]; done[first[k]] = 1 }
    for (k = 1; k <= 3; k++) done[last[k]] = 1
    for (k = 1; k <= norder; k++) if (!(order[k] in done) && body[order[k]] != "") { print ".SH " order[k]; printf "%s", body[order[k]] }
    for (k = 1; k <= 3; k++) if (body[last[k]] != "") { print ".SH " last[k]; printf "%s", body[last[k]] }
    if (seealso != "") {
        print ".SH SEE ALSO"
        m = split(seealso, sa, / +/); t = ""
        for (k = 1; k <= m; k++) {
            p = sa[k]; sub(/\(.*/, "", p); s = sa[k]; sub(/^[^(]*/, "", s)
            t = t (k > 1 ? ",\n" : "") "\\fB" esc(p, 0) "\\fR" s
        }
        print t
    }
}
