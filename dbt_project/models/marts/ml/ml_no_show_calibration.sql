{#- One row per clinic x month x probability bin (tenths: 0 = [0, 0.1), ..., 9 = [0.9, 1]):
    how many scored appointments with an outcome fell in the bin, the sum of their predicted
    probabilities and how many were no-shows. Sums, so that any span of months adds up:
    mean predicted = sum(probability_sum) / sum(appointments), observed rate = sum(no_shows) /
    sum(appointments); a calibrated model has the two close in every bin. -#}
select
    clinic_id,
    month_start,
    least(cast(floor(probability * 10) as integer), 9) as probability_bin,
    count(*) as appointments,
    sum(probability) as probability_sum,
    sum(case when is_no_show then 1 else 0 end) as no_shows
from {{ ref('ml_no_show_outcomes') }}
group by 1, 2, 3
