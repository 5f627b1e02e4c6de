SELECT CAST(day AS VARCHAR), salt FROM salts;
