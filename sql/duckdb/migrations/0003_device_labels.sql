-- Device and screen classes are labelled as Plausible labels them ('Desktop',
-- 'Mobile', 'Tablet', 'Laptop'), so that clients filtering visit:device==Desktop
-- find them; earlier versions stored them in lower case.
UPDATE events SET device = CASE device
        WHEN 'desktop' THEN 'Desktop' WHEN 'mobile' THEN 'Mobile'
        WHEN 'tablet' THEN 'Tablet' WHEN 'other' THEN 'Other' ELSE device END
    WHERE device IN ('desktop', 'mobile', 'tablet', 'other');
UPDATE events SET screen = CASE screen
        WHEN 'desktop' THEN 'Desktop' WHEN 'mobile' THEN 'Mobile'
        WHEN 'tablet' THEN 'Tablet' WHEN 'laptop' THEN 'Laptop' ELSE screen END
    WHERE screen IN ('desktop', 'mobile', 'tablet', 'laptop');
UPDATE daily_aggregates SET value = CASE value
        WHEN 'desktop' THEN 'Desktop' WHEN 'mobile' THEN 'Mobile' WHEN 'tablet' THEN 'Tablet'
        WHEN 'laptop' THEN 'Laptop' WHEN 'other' THEN 'Other' ELSE value END
    WHERE dimension IN ('device', 'screen')
      AND value IN ('desktop', 'mobile', 'tablet', 'laptop', 'other');
