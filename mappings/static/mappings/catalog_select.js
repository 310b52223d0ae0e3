'use strict';
// Searchable dropdowns over the discovered catalog (Django admin's bundled Select2).
// Brevo attribute boxes also accept a new name: validation then offers to create it.
{
    const $ = django.jQuery;

    // A saved row's dropdown arrives with its current value only; the full list is in the same
    // dropdown of the formset's empty form (the "Add another" template), copied here.
    function fillOptions(select) {
        const source = select.dataset.optionsFrom && document.getElementById(select.dataset.optionsFrom);
        if (!source) {
            return;
        }
        const current = select.querySelector('option:checked');
        const value = select.value;
        select.innerHTML = source.innerHTML;
        if (current && value !== '' && !Array.from(select.options).some((o) => o.value === value)) {
            select.appendChild(current);
        }
        select.value = value;
        delete select.dataset.optionsFrom;
    }

    function enhance(root) {
        $(root).find('select.tajo-catalog-select').not('[name*=__prefix__]').each(function() {
            const $el = $(this);
            if ($el.hasClass('select2-hidden-accessible')) {
                return;
            }
            fillOptions(this);
            $el.select2({
                width: 'resolve',
                tags: this.dataset.tags === 'true',
                allowClear: !this.required,
                placeholder: this.dataset.placeholder || '',
                createTag: (params) => {
                    const term = $.trim(params.term).toUpperCase();
                    return term ? {id: term, text: term + ' (new)', newTag: true} : null;
                }
            });
        });
    }

    $(function() {
        enhance(document);
    });

    document.addEventListener('formset:added', (event) => {
        enhance(event.target);
    });
}
