"""The wording of the management-review pack in English and Arabic.

The pack is a document in the language asked for, whatever the reader's page language,
so (like the decision letters' templates) it holds its own wording per language.
"""

from __future__ import annotations

TEXT: dict[str, dict[str, str]] = {
    "title": {"en": "Management review pack", "ar": "حزمة مراجعة الإدارة"},
    "period": {"en": "Period", "ar": "الفترة"},
    "to": {"en": "to", "ar": "إلى"},
    "kpis": {"en": "KPIs against objectives", "ar": "مؤشرات الأداء مقارنة بالأهداف"},
    "trends": {"en": "Trends by month", "ar": "الاتجاهات حسب الشهر"},
    "causes": {"en": "Top causes", "ar": "أهم الأسباب"},
    "satisfaction": {"en": "Satisfaction with the handling", "ar": "الرضا عن معالجة الشكوى"},
    "open": {"en": "Open and overdue", "ar": "الشكاوى المفتوحة والمتأخرة"},
    "conformance": {"en": "ISO 10002 conformance summary", "ar": "ملخص المطابقة لمعيار ISO 10002"},
    "kpi": {"en": "Indicator", "ar": "المؤشر"},
    "value": {"en": "Value", "ar": "القيمة"},
    "objective": {"en": "Objective", "ar": "الهدف"},
    "met": {"en": "Met", "ar": "تحقق"},
    "yes": {"en": "yes", "ar": "نعم"},
    "no": {"en": "no", "ar": "لا"},
    "ack_on_target": {"en": "% acknowledged on target", "ar": "نسبة الإقرار في الموعد"},
    "resp_on_target": {"en": "% responded on target", "ar": "نسبة الرد في الموعد"},
    "res_on_target": {"en": "% resolved on target", "ar": "نسبة الحل في الموعد"},
    "mean_satisfaction": {"en": "Mean satisfaction (1-5)", "ar": "متوسط الرضا (1-5)"},
    "reopen_rate": {"en": "% of closed cases reopened", "ar": "نسبة الشكاوى المعاد فتحها"},
    "month": {"en": "Month", "ar": "الشهر"},
    "received": {"en": "Received", "ar": "المستلمة"},
    "closed": {"en": "Closed", "ar": "المغلقة"},
    "cause": {"en": "Cause", "ar": "السبب"},
    "count": {"en": "Complaints closed", "ar": "الشكاوى المغلقة"},
    "upheld_percent": {"en": "% upheld", "ar": "نسبة القبول"},
    "responses": {"en": "Survey answers", "ar": "إجابات الاستبيان"},
    "response_rate": {"en": "Response rate %", "ar": "نسبة الاستجابة %"},
    "score": {"en": "Score", "ar": "الدرجة"},
    "answers": {"en": "Answers", "ar": "الإجابات"},
    "measure": {"en": "Measure", "ar": "المقياس"},
    "open_at_end": {"en": "Open at the end of the period", "ar": "مفتوحة في نهاية الفترة"},
    "overdue": {"en": "Of which overdue", "ar": "منها متأخرة"},
    "age": {"en": "Age (days)", "ar": "العمر (أيام)"},
    "item": {"en": "Item", "ar": "البند"},
    "evidence": {"en": "Evidence", "ar": "الدليل"},
    "not_recorded": {"en": "not recorded", "ar": "غير مسجل"},
    "all": {"en": "All", "ar": "الكل"},
    "actions": {"en": "Open and overdue corrective actions",
                "ar": "الإجراءات التصحيحية المفتوحة والمتأخرة"},
    "reference": {"en": "Reference", "ar": "المرجع"},
    "action": {"en": "Action", "ar": "الإجراء"},
    "status": {"en": "Status", "ar": "الحالة"},
    "due": {"en": "Due", "ar": "تاريخ الاستحقاق"},
    "late": {"en": "Overdue", "ar": "متأخر"},
    "linked": {"en": "Linked complaints", "ar": "الشكاوى المرتبطة"},
}

# Clause and principle names, by the ref conformance.ITEMS gives them.
ITEM_NAMES: dict[str, str] = {
    "commitment": "الالتزام والقدرة", "transparency": "الشفافية", "accessibility": "سهولة الوصول",
    "responsiveness": "الاستجابة", "objectivity": "الموضوعية", "charges": "الرسوم",
    "integrity": "سلامة المعلومات", "confidentiality": "السرية",
    "customer_focus": "التركيز على العميل", "accountability": "المساءلة",
    "improvement": "التحسين", "competence": "الكفاءة", "timeliness": "الالتزام بالوقت",
    "7.1": "التواصل", "7.2": "استلام الشكوى", "7.3": "تتبع الشكوى", "7.4": "الإقرار بالشكوى",
    "7.5": "التقييم الأولي", "7.6": "التحقيق", "7.7": "الرد على الشكوى",
    "7.8": "إبلاغ القرار", "7.9": "إغلاق الشكوى", "8.1": "جمع المعلومات",
    "8.2": "التحليل والتقييم", "8.3": "الرضا عن العملية", "8.4": "المراقبة", "8.5": "التدقيق",
    "8.6": "مراجعة الإدارة", "8.7": "التحسين المستمر",
}


def text(key: str, language: str) -> str:
    """A phrase of the pack in a language."""
    return TEXT[key][language]
