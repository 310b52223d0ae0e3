'use strict';
// Searchable dropdowns over the discovered catalog (Django admin's bundled Select2).
// Brevo attribute boxes also accept a new name: validation then offers to create it.
{
    const $ = django.jQuery;

    function enhance(root) {
        $(root).find('select.tajo-catalog-select').not('[name*=__prefix__]').each(function() {
            const $el = $(this);
            if ($el.hasClass('select2-hidden-accessible')) {
                return;
            }
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
