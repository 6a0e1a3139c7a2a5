/* report_i18n.c — what a period report says in words: its labels in
 * English and Vietnamese, durations, the period's dates, and the mapping
 * of classtypes to ENISA's Reference Security Incident Taxonomy.
 *
 * RSIT: the "Reference Security Incident Taxonomy" of the ENISA-hosted
 * task force (github.com/enisaeu/Reference-Security-Incident-Taxonomy-Task-
 * Force, working copy of 2018-2021): its class and type names are kept as
 * published, in English, in both languages (they are the taxonomy's
 * identifiers). The classtypes are those of rules/classification.config
 * (Suricata's and Snort's, and the project's own sdf, credential-theft).
 *
 * Invariants: static const tables only; every label key has both texts
 * (tests/test_report.c checks it).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/report.h"

static const struct {
    const char *classtype, *cls, *type;
} rsit_map[] = {
    { "not-suspicious", "Other", "Uncategorised" },
    { "unknown", "Other", "Undetermined" },
    { "bad-unknown", "Other", "Undetermined" },
    { "attempted-recon", "Information Gathering", "Scanning" },
    { "successful-recon-limited", "Information Content Security",
      "Unauthorised access to information" },
    { "successful-recon-largescale", "Information Content Security",
      "Unauthorised access to information" },
    { "network-scan", "Information Gathering", "Scanning" },
    { "attempted-dos", "Availability", "Denial of Service" },
    { "successful-dos", "Availability", "Denial of Service" },
    { "denial-of-service", "Availability", "Denial of Service" },
    { "attempted-user", "Intrusion Attempts", "Exploitation of known vulnerabilities" },
    { "unsuccessful-user", "Intrusion Attempts", "Login attempts" },
    { "successful-user", "Intrusions", "Unprivileged Account Compromise" },
    { "attempted-admin", "Intrusion Attempts", "Exploitation of known vulnerabilities" },
    { "successful-admin", "Intrusions", "Privileged Account Compromise" },
    { "suspicious-login", "Intrusion Attempts", "Login attempts" },
    { "default-login-attempt", "Intrusion Attempts", "Login attempts" },
    { "web-application-attack", "Intrusion Attempts", "Exploitation of known vulnerabilities" },
    { "web-application-activity", "Vulnerable", "Potentially unwanted accessible services" },
    { "shellcode-detect", "Intrusion Attempts", "Exploitation of known vulnerabilities" },
    { "system-call-detect", "Intrusions", "System Compromise" },
    { "suspicious-filename-detect", "Malicious Code", "Malware Distribution" },
    { "string-detect", "Other", "Undetermined" },
    { "trojan-activity", "Malicious Code", "Infected System" },
    { "command-and-control", "Malicious Code", "C2 Server" },
    { "domain-c2", "Malicious Code", "C2 Server" },
    { "targeted-activity", "Intrusion Attempts", "New attack signature" },
    { "exploit-kit", "Malicious Code", "Malware Distribution" },
    { "coin-mining", "Fraud", "Unauthorised use of resources" },
    { "pup-activity", "Malicious Code", "Infected System" },
    { "policy-violation", "Fraud", "Unauthorised use of resources" },
    { "sdf", "Information Content Security", "Leak of confidential information" },
    { "credential-theft", "Fraud", "Phishing" },
    { "social-engineering", "Information Gathering", "Social Engineering" },
    { "external-ip-check", "Malicious Code", "Infected System" },
    { "non-standard-protocol", "Other", "Uncategorised" },
    { "protocol-command-decode", "Other", "Uncategorised" },
    { "unusual-client-port-connection", "Other", "Uncategorised" },
    { "tcp-connection", "Other", "Uncategorised" },
    { "icmp-event", "Information Gathering", "Scanning" },
    { "misc-activity", "Other", "Uncategorised" },
    { "misc-attack", "Intrusion Attempts", "New attack signature" },
};

void cg_report_rsit(const char *classtype, const char **cls, const char **type)
{
    for (size_t i = 0; classtype && i < sizeof rsit_map / sizeof rsit_map[0]; i++)
        if (!strcmp(rsit_map[i].classtype, classtype)) {
            *cls = rsit_map[i].cls;
            *type = rsit_map[i].type;
            return;
        }
    *cls = "Other";
    *type = "Undetermined";
}

/* key, English, Vietnamese */
static const char *const labels[][3] = {
    { "title", "Periodic report", "Báo cáo định kỳ" },
    { "subtitle", "Security incidents of the data center",
      "Sự cố an toàn thông tin của trung tâm dữ liệu" },
    { "period", "Period", "Kỳ báo cáo" },
    { "to", "to", "đến" },
    { "timezone", "Days cut in time zone", "Ngày tính theo múi giờ" },
    { "filter", "Filter", "Bộ lọc" },
    { "agency", "Agency", "Cơ quan" },
    { "zone", "Zone", "Vùng mạng" },
    { "generated", "Generated", "Thời điểm lập" },
    { "store", "Store", "Kho dữ liệu" },
    { "query", "Same incidents as the query", "Cùng tập sự cố với truy vấn" },
    { "summary", "Summary", "Tóm tắt" },
    { "incidents", "Incidents", "Số sự cố" },
    { "no_incidents", "No incidents in this period.", "Không có sự cố nào trong kỳ báo cáo." },
    { "by_day", "Incidents by day and severity", "Sự cố theo ngày và mức độ" },
    { "day", "Day", "Ngày" },
    { "days_quiet",
      "The table lists the days with incidents; the chart shows every day of the period.",
      "Bảng chỉ liệt kê các ngày có sự cố; biểu đồ thể hiện mọi ngày trong kỳ." },
    { "total", "Total", "Tổng" },
    { "severity", "Severity", "Mức độ" },
    { "sev1", "High", "Cao" },
    { "sev2", "Medium", "Trung bình" },
    { "sev3", "Low", "Thấp" },
    { "sev4", "Info", "Thông tin" },
    { "status", "Status", "Trạng thái" },
    { "st0", "New", "Mới" },
    { "st1", "Acknowledged", "Đã xác nhận" },
    { "st2", "Investigating", "Đang điều tra" },
    { "st3", "Resolved", "Đã xử lý" },
    { "st4", "False positive", "Cảnh báo nhầm" },
    { "by_category", "Incidents by category", "Sự cố theo phân loại" },
    { "classtype", "Classtype", "Phân loại (classtype)" },
    { "rsit_class", "RSIT class", "Lớp RSIT" },
    { "rsit_type", "RSIT type", "Kiểu RSIT" },
    { "by_rsit", "Incidents by RSIT class (ENISA)", "Sự cố theo lớp RSIT (ENISA)" },
    { "top_sigs", "Top signatures", "Chữ ký phát hiện nhiều nhất" },
    { "signature", "Signature", "Chữ ký" },
    { "message", "Message", "Thông điệp" },
    { "top_srcs", "Top sources", "Nguồn tấn công nhiều nhất" },
    { "source", "Source", "Nguồn" },
    { "country", "Country", "Quốc gia" },
    { "asn", "AS", "Hệ thống tự trị (AS)" },
    { "distinct_srcs", "Distinct sources", "Số nguồn khác nhau" },
    { "hit", "Agencies and zones hit", "Cơ quan và vùng mạng bị tấn công" },
    { "unknown", "(unknown)", "(không rõ)" },
    { "none", "(none)", "(không có)" },
    { "escalations", "Escalations by layer", "Chuyển cấp theo lớp" },
    { "layer", "Layer", "Lớp" },
    { "layer1", "1. On-site force", "1. Lực lượng tại chỗ" },
    { "layer2", "2. Professional monitoring", "2. Giám sát, bảo vệ chuyên nghiệp" },
    { "layer3", "3. Independent assessment", "3. Kiểm tra, đánh giá độc lập" },
    { "layer4", "4. National sharing", "4. Kết nối, chia sẻ quốc gia" },
    { "reached", "Incidents at this layer", "Sự cố ở lớp này" },
    { "esc_entries", "Escalations to it", "Lượt chuyển cấp lên lớp" },
    { "escalated", "Incidents escalated", "Sự cố đã được chuyển cấp" },
    { "times", "Time to acknowledge and to resolve", "Thời gian xác nhận và xử lý" },
    { "tta", "Time to acknowledge", "Thời gian xác nhận" },
    { "ttr", "Time to resolve", "Thời gian xử lý" },
    { "done", "Done", "Đã thực hiện" },
    { "not_yet", "Not yet", "Chưa thực hiện" },
    { "median", "Median", "Trung vị" },
    { "p90", "90th percentile", "Phân vị 90" },
    { "target", "Target", "Chỉ tiêu" },
    { "breaches", "Breaches", "Vi phạm" },
    { "no_policy", "No policy given (--policy): no targets.",
      "Không có chính sách (--policy): không có chỉ tiêu." },
    { "policy", "Targets from", "Chỉ tiêu theo" },
    { "breach_list", "Breaches of the targets", "Danh sách vi phạm chỉ tiêu" },
    { "no_breaches", "No breach.", "Không có vi phạm." },
    { "more", "more, not listed", "vi phạm khác, không liệt kê" },
    { "incident", "Incident", "Sự cố" },
    { "step", "Step", "Bước" },
    { "ack", "Acknowledge", "Xác nhận" },
    { "resolve", "Resolve", "Xử lý" },
    { "taken", "Time taken", "Thời gian thực tế" },
    { "still_open", "still not done", "vẫn chưa thực hiện" },
    { "backlog", "Backlog at the end of the period", "Tồn đọng cuối kỳ" },
    { "backlog_text",
      "Incidents first seen before the end, open (new, acknowledged or investigating) at the end",
      "Sự cố phát hiện trước cuối kỳ, còn mở (mới, đã xác nhận hoặc đang điều tra) vào cuối kỳ" },
    { "backlog_now", "Of them first seen before the end and open today",
      "Phát hiện trước cuối kỳ và hiện vẫn còn mở" },
    { "tuning", "Tuning hints", "Gợi ý tinh chỉnh luật" },
    { "tuning_text",
      "Rules with at least 3 incidents in the period of which more than half are marked "
      "false-positive",
      "Luật có ít nhất 3 sự cố trong kỳ, trong đó hơn một nửa bị đánh dấu cảnh báo nhầm" },
    { "fp", "False positives", "Cảnh báo nhầm" },
    { "no_tuning", "No rule.", "Không có luật nào." },
    { "integrity", "Integrity of the store", "Tính toàn vẹn của kho dữ liệu" },
    { "origin", "Log origin", "Tên nhật ký" },
    { "tree_size", "Log tree size (leaves)", "Kích thước cây nhật ký (số lá)" },
    { "root", "Tree root (SHA-256, base64)", "Gốc cây (SHA-256, base64)" },
    { "checkpoint", "Checkpoint", "Điểm kiểm tra" },
    { "cp_ok", "verified: today's log extends it", "đã xác minh: nhật ký hiện nay kế thừa nó" },
    { "cp_bad", "NOT verified", "KHÔNG xác minh được" },
    { "cp_none",
      "No checkpoint given (--checkpoint): the tree head above is not proven against an earlier "
      "signed checkpoint.",
      "Không có điểm kiểm tra (--checkpoint): gốc cây trên chưa được chứng minh so với một điểm "
      "kiểm tra đã ký trước đó." },
    { "no_key", "The store has no signing key (canhgac keys init).",
      "Kho dữ liệu chưa có khóa ký (canhgac keys init)." },
    { "no_log", "The store has no tamper-evident log.",
      "Kho dữ liệu không có nhật ký chống sửa đổi." },
    { "records_ok", "Every record matches its leaf in the log",
      "Mọi bản ghi khớp với lá của nó trong nhật ký" },
    { "records_bad", "Some records do NOT match their leaves (canhgac store verify lists them)",
      "Có bản ghi KHÔNG khớp với lá (canhgac store verify liệt kê)" },
    { "records_skip", "Records not re-hashed (--verify does it)",
      "Chưa băm lại các bản ghi (dùng --verify)" },
    { "page", "Page", "Trang" },
    { "of", "of", "/" },
    { "share", "Share", "Tỷ lệ" },
    { "u_d", "d", " ngày" },
    { "u_h", "h", " giờ" },
    { "u_m", "m", " phút" },
    { "u_s", "s", " giây" },
};

int cg_report_lang_ok(const char *lang)
{
    return !strcmp(lang, "en") || !strcmp(lang, "vi");
}

const char *cg_report_label(const char *lang, const char *key)
{
    int vi = lang && !strcmp(lang, "vi");
    for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
        if (!strcmp(labels[i][0], key))
            return labels[i][vi ? 2 : 1];
    return key;
}

void cg_report_duration(const char *lang, uint64_t s, char *out, size_t len)
{
    static const char *const u[4] = { "u_d", "u_h", "u_m", "u_s" };
    uint64_t v[4] = { s / 86400, s / 3600 % 24, s / 60 % 60, s % 60 };
    size_t n = 0;
    int parts = 0;
    out[0] = 0;
    for (int i = 0; i < 4 && parts < 2; i++) {
        if (!v[i] && !(i == 3 && !parts))
            continue;
        int w = snprintf(out + n, len - n, "%s%llu%s", parts ? " " : "", (unsigned long long)v[i],
                         cg_report_label(lang, u[i]));
        if (w < 0 || (size_t)w >= len - n)
            return;
        n += (size_t)w;
        parts++;
    }
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int cg_report_parse_time(const char *s, int end, uint64_t *us, char *err, size_t errlen)
{
    int y, mo, d, h = 0, mi = 0, se = 0, off = 0;
    struct tm tm;
    time_t t;
    size_t n = strlen(s);

    if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31 || y < 1970)
        goto bad;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    if (n == 10) {
        /* a day in local time (TZ): its midnight, or the next one's */
        tm.tm_isdst = -1;
        if (end)
            tm.tm_mday++;
        t = mktime(&tm);
        if (t == (time_t)-1)
            goto bad;
        /* mktime normalises 2026-02-31 to March: refuse it */
        struct tm back;
        time_t t0 = t;
        if (end)
            t0 -= 12 * 3600; /* within the day asked for */
        localtime_r(&t0, &back);
        if (back.tm_mday != d || back.tm_mon != mo - 1)
            goto bad;
        *us = (uint64_t)t * 1000000u;
        return 0;
    }
    if (n < 20 || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se) ||
        h > 23 || mi > 59 || se > 59) /* no leap second: timegm would roll it over */
        goto bad;
    const char *z = s + 19;
    if ((z[0] == 'Z' || z[0] == 'z') && !z[1]) {
        off = 0;
    } else if ((z[0] == '+' || z[0] == '-') && strlen(z) == 6 && z[3] == ':') {
        int oh, om;
        if (digits(z + 1, 2, &oh) || digits(z + 4, 2, &om) || oh > 23 || om > 59)
            goto bad;
        off = (oh * 60 + om) * 60 * (z[0] == '-' ? -1 : 1);
    } else {
        goto bad;
    }
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    t = timegm(&tm);
    if (t == (time_t)-1 || (int64_t)t - off < 0)
        goto bad;
    *us = (uint64_t)((int64_t)t - off) * 1000000u;
    return 0;
bad:
    snprintf(err, errlen,
             "'%.64s' is not a date (YYYY-MM-DD) or an RFC 3339 time (2026-10-01T00:00:00+07:00)",
             s);
    return -1;
}
