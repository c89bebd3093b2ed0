// A text with a number in it, in the form the page's language uses for that number. The
// page hands each such text over as its forms per plural category (zero, one, two, few,
// many, other: Arabic uses all six), "{count}" standing where the number goes.

export function counted(forms, count) {
  const category = new Intl.PluralRules(document.documentElement.lang || 'en').select(count);
  return (forms[category] ?? forms.other).replace('{count}', String(count));
}
